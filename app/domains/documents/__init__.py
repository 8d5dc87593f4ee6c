"""Documents: files uploaded (streamed), checked by their own bytes, stored (the file system),
attached to a record, and served with ETag and Range to whoever may see that record."""

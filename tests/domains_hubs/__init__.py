"""Tests of JIPP hubs: records, the status machine, members and who may do what."""

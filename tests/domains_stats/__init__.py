"""Tests of the statistics endpoints."""

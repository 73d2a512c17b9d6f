"""Peer servers the benchmark compares Quire with."""

"""Beam PTransforms and DoFns for newsflow, each wrapped around a pure-Python core."""

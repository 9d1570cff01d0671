"""Segmentation tools (threshold, region growing, paint, corrections): one contract, no Qt."""

"""Simulation of toy landscapes: objectives, vectorised SGD over many seeds, exact moments, stability, sharpness and curvature."""

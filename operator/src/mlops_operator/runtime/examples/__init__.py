"""Example trainers on scikit-learn's bundled breast-cancer data set (nothing is downloaded)."""

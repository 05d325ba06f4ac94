"""The API of mlops.dev/v1alpha1: the one declared place of every field."""

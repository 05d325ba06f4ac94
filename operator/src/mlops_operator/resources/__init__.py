"""Pure builders of the operator's children: models in, plain dicts out."""

"""The innermost layer: what every other layer shares (the request, the statuses, the steps,
prices and usage, the errors, the rules of the GitHub budget, a cached reply). It imports nothing
of ours; tests/test_layers.py holds every layer to that order."""

"""Settlement operations: moving manual settlement intents on by hand."""

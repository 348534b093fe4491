"""HTTP servers: the local Step Functions endpoint for callbacks and activities."""

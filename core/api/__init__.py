"""What every app's API shares: bounded JSON parsing, the error handler, query parameters, stored JSON fields."""

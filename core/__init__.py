"""What every app shares and no app owns: the domain error type, roles and API permissions."""

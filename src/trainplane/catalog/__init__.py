"""Instance catalog and local capacity."""

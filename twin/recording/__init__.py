"""Recording: what is kept each day, the table schemas with units, and atomic Parquet output."""

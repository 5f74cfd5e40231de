"""From a finished sweep to what people read: rows, the table, claims, statistics, figures."""

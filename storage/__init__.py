"""Persistence: SQLModel tables, the database engine and the queries of each area."""

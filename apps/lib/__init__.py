"""What is not domain: the SQL that differs between SQLite and MySQL/MariaDB, multi-row writes, and
transactions that retry on lock conflicts. Every app may use it; it imports no app."""

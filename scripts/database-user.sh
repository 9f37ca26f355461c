# Sourced by scripts/mariadb.sh and scripts/galera.sh: the project's database and its user.
USER_NAME=syncserver
PASSWORD=syncserver
DATABASE=syncserver

# create_database_and_user SOCKET: as root over the server's socket; harmless when they exist.
create_database_and_user() {
  mariadb --socket="$1" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS $DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$USER_NAME'@'127.0.0.1' IDENTIFIED BY '$PASSWORD';
CREATE USER IF NOT EXISTS '$USER_NAME'@'localhost' IDENTIFIED BY '$PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$USER_NAME'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO '$USER_NAME'@'localhost';
SQL
}

package store

import (
	"database/sql/driver"
	"errors"
	"net"
	"strings"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
)

// SQLite primary result codes that mean "try again later".
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

// isUnavailable reports whether err means the database is down, busy or
// unreachable rather than that the query is wrong.
func isUnavailable(err error) bool {
	var (
		netErr  net.Error
		connErr *pgconn.ConnectError
		pgErr   *pgconn.PgError
		liteErr *gosqlite.Error
	)
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.As(err, &netErr), errors.As(err, &connErr):
		return true
	case errors.As(err, &pgErr):
		// 08: connection exception; 53: insufficient resources;
		// 57P: operator intervention (shutdown); 40001/40P01:
		// serialization failure and deadlock, retryable.
		c := pgErr.Code
		return strings.HasPrefix(c, "08") || strings.HasPrefix(c, "53") || strings.HasPrefix(c, "57P") ||
			c == "40001" || c == "40P01"
	case errors.As(err, &liteErr):
		c := liteErr.Code() & 0xff
		return c == sqliteBusy || c == sqliteLocked
	}
	return pgconn.SafeToRetry(err)
}

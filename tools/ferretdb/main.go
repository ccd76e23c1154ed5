// Command ferretdb-sqlite runs FerretDB v1.24.2 as the project's local MongoDB-wire server, on SQLite
// (--handler=sqlite --sqlite-dir=DIR, the default) or on PostgreSQL (--handler=postgresql
// --postgresql-url=postgres://…; scripts/postgres.ts starts a local one).
//
// Each mode keeps indexes FerretDB does not make itself but needs (see ../shared/facts.md):
//   - SQLite: an index on `_ferretdb_sjson->'$._id'` on every collection table. FerretDB's own _id index is on
//     a different expression, which SQLite's planner does not match, so without this every _id lookup and
//     every modifying write scans the whole table. Other filters are evaluated in Go over the whole table.
//   - PostgreSQL: a GIN index twin on every field that leads one of FerretDB's own (btree) indexes, `_id`
//     included; FerretDB pushes equality filters down as `@>`, which only a GIN index serves (keepGINIndexes).
//
// On PostgreSQL the pool is larger than FerretDB's default (--postgresql-pool): see the comment in main.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"hash/fnv"
	"log/slog"
	neturl "net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"
)

func main() {
	addr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	handler := flag.String("handler", "sqlite", "storage: sqlite or postgresql")
	dir := flag.String("sqlite-dir", "", "absolute directory for the SQLite files (sqlite handler)")
	pgURL := flag.String("postgresql-url", "", "PostgreSQL URL, e.g. postgres://user@127.0.0.1:5432/ferretdb (postgresql handler)")
	pool := flag.Int("postgresql-pool", 400, "FerretDB's PostgreSQL connection pool size, unless the URL sets pool_max_conns")
	interval := flag.Duration("index-interval", time.Second, "how often new collection tables get their extra indexes")
	level := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var logLevel slog.Level
	if err := logLevel.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintln(os.Stderr, "--log-level:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))
	config := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *addr},
		Handler:  *handler,
		Logger:   logger,
	}
	switch *handler {
	case "sqlite":
		if *dir == "" || !filepath.IsAbs(*dir) {
			fmt.Fprintln(os.Stderr, "--sqlite-dir must be an absolute directory")
			os.Exit(2)
		}
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		config.SQLiteURL = "file:" + strings.TrimSuffix(*dir, "/") + "/"
	case "postgresql":
		if *pgURL == "" {
			fmt.Fprintln(os.Stderr, "--postgresql-url is required with --handler=postgresql")
			os.Exit(2)
		}
		u, err := neturl.Parse(*pgURL)
		if err != nil {
			fmt.Fprintln(os.Stderr, "--postgresql-url:", err)
			os.Exit(2)
		}
		// FerretDB v1.24.2 keeps one pooled connection per updateOne of an update command until the command
		// ends, and then needs one more: once the update commands running at once hold the whole pool, they
		// wait for each other for good (FerretDB's default pool is 50; measured: one bulkWrite of 50 updates
		// hangs the server). A larger pool moves that limit; PostgreSQL's max_connections must exceed it.
		// Connections idle for a minute are closed (FerretDB turns any pool_max_conn_idle_time into 1m).
		q := u.Query()
		if !q.Has("pool_max_conns") {
			q.Set("pool_max_conns", fmt.Sprint(*pool))
		}
		if !q.Has("pool_max_conn_idle_time") {
			q.Set("pool_max_conn_idle_time", "1m")
		}
		u.RawQuery = q.Encode()
		config.PostgreSQLURL = u.String()
	default:
		fmt.Fprintf(os.Stderr, "--handler=%s: want sqlite or postgresql\n", *handler)
		os.Exit(2)
	}

	f, err := ferretdb.New(config)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *handler == "sqlite" {
		go keepIDIndexes(ctx, *dir, *interval, logger)
	} else {
		go keepGINIndexes(ctx, config.PostgreSQLURL, *interval, logger)
	}
	if err := f.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func keepIDIndexes(ctx context.Context, dir string, interval time.Duration, logger *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, file := range files {
			if err := indexFile(ctx, file); err != nil {
				logger.Warn("index keeper", "file", file, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// indexFile opens without creating (a dropped database deletes its file) and adds the missing indexes.
func indexFile(ctx context.Context, file string) error {
	db, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx,
		`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\_ferretdb\_%' ESCAPE '\' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
		 AND NOT EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.name = sqlite_master.name || '_lsync_id')`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		quoted := `"` + strings.ReplaceAll(table, `"`, `""`) + `"`
		index := `"` + strings.ReplaceAll(table+"_lsync_id", `"`, `""`) + `"`
		stmt := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s ((_ferretdb_sjson->'$._id'))`, index, quoted)
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
	}
	return nil
}

// keepGINIndexes gives every field that leads one of FerretDB's own indexes on PostgreSQL a GIN index twin.
//
// FerretDB creates real btree indexes (on `(_jsonb -> 'field')`), but it pushes an equality filter down as
// `_jsonb -> 'field' @> 'value'`, an operator btree cannot serve: without a twin, every find, and every update
// or delete (each starts with a find) scans the whole table, `{_id: …}` lookups included. A GIN index on the
// same expression serves `@>`. Only top-level fields get one: a dotted key is pushed down with `#>`.
// FerretDB never sees these indexes (it lists indexes from its own metadata); one whose field no longer
// leads a FerretDB index is dropped.
func keepGINIndexes(ctx context.Context, url string, interval time.Duration, logger *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	// pgxpool's settings (FerretDB's pool_max_conns, …) are no PostgreSQL settings: a plain connection would send
	// them to the server, which refuses unknown ones.
	if u, err := neturl.Parse(url); err == nil {
		q := u.Query()
		for k := range q {
			if strings.HasPrefix(k, "pool_") {
				q.Del(k)
			}
		}
		u.RawQuery = q.Encode()
		url = u.String()
	}
	for {
		if conn == nil {
			c, err := pgx.Connect(ctx, url)
			if err == nil {
				// Wait briefly for FerretDB's locks, and retry at the next tick, rather than queue its writes behind us.
				_, err = c.Exec(ctx, `SET lock_timeout = '2s'`)
			}
			if err != nil {
				if ctx.Err() == nil {
					logger.Warn("GIN index keeper: connect", "error", err)
				}
			} else {
				conn = c
			}
		}
		if conn != nil {
			if err := syncGINIndexes(ctx, conn, logger); err != nil {
				if ctx.Err() == nil {
					logger.Warn("GIN index keeper", "error", err)
				}
				if conn.IsClosed() {
					conn = nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// ginSuffix names the keeper's indexes; FerretDB's own end in `_idx`.
const ginSuffix = "_lsync_gin"

var leadingField = regexp.MustCompile(`^\(_jsonb -> '((?:[^']|'')*)'::text\)$`)

func ginIndexName(table, field string) string {
	h := fnv.New64a()
	h.Write([]byte(field))
	if len(table) > 36 {
		table = table[:36]
	}
	return fmt.Sprintf("%s_%016x%s", table, h.Sum64(), ginSuffix) // at most 36+1+16+10 = 63 bytes
}

func syncGINIndexes(ctx context.Context, conn *pgx.Conn, logger *slog.Logger) error {
	// Every index on a FerretDB collection table (a `_jsonb` column; not its metadata table): FerretDB's btree
	// indexes with their leading expression, and the keeper's own GIN indexes.
	rows, err := conn.Query(ctx, `
		SELECT n.nspname, c.relname, ic.relname, am.amname, pg_get_indexdef(i.indexrelid, 1, true)
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid
		JOIN pg_am am ON am.oid = ic.relam
		JOIN pg_class c ON c.oid = i.indrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
		  AND c.relname NOT LIKE '\_ferretdb\_%'
		  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = '_jsonb' AND NOT a.attisdropped)`)
	if err != nil {
		return err
	}
	type table struct{ schema, name string }
	want := map[table]map[string]string{} // table -> index name -> field
	have := map[table]map[string]bool{}
	for rows.Next() {
		var t table
		var index, method, def string
		if err := rows.Scan(&t.schema, &t.name, &index, &method, &def); err != nil {
			rows.Close()
			return err
		}
		if strings.HasSuffix(index, ginSuffix) {
			if have[t] == nil {
				have[t] = map[string]bool{}
			}
			have[t][index] = true
			continue
		}
		m := leadingField.FindStringSubmatch(def)
		if method != "btree" || m == nil {
			continue
		}
		field := strings.ReplaceAll(m[1], "''", "'")
		if want[t] == nil {
			want[t] = map[string]string{}
		}
		want[t][ginIndexName(t.name, field)] = field
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	for t, indexes := range want {
		for index, field := range indexes {
			if have[t][index] {
				continue
			}
			stmt := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s USING gin ((_jsonb -> '%s') jsonb_path_ops)`,
				pgx.Identifier{index}.Sanitize(), pgx.Identifier{t.schema, t.name}.Sanitize(), strings.ReplaceAll(field, "'", "''"))
			started := time.Now()
			if _, err := conn.Exec(ctx, stmt); err != nil {
				// The table may have been dropped meanwhile, or FerretDB holds a lock: next tick.
				logger.Info("GIN index keeper: create", "table", t.schema+"."+t.name, "field", field, "error", err)
				continue
			}
			logger.Info("GIN index keeper: created", "table", t.schema+"."+t.name, "field", field, "took", time.Since(started))
		}
	}
	for t, indexes := range have {
		for index := range indexes {
			if _, ok := want[t][index]; ok {
				continue
			}
			stmt := fmt.Sprintf(`DROP INDEX IF EXISTS %s`, pgx.Identifier{t.schema, index}.Sanitize())
			if _, err := conn.Exec(ctx, stmt); err != nil {
				logger.Info("GIN index keeper: drop", "index", t.schema+"."+index, "error", err)
			}
		}
	}
	return nil
}

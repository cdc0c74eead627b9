"""The store on a PostgreSQL server: `--db postgresql://user@host:port/database`.

The tables live in memory as with the embedded engine (`memory`); the server,
not a file, makes them durable and shares them between machines:

- Every store table is a SQL table `(id, rev, seq, updated_at, doc jsonb)` in
  the connection's schema (one database holds several stores, a schema each:
  `?options=-csearch_path%3Dshop2`). `doc` NULL marks a deleted document until
  `compact`: sessions catching up must learn of the deletion.
- A commit is one SQL transaction under an advisory lock (the embedded file
  lock's counterpart): catch up, run the verb in memory, COPY its documents
  into a staging table, then write them set-based. An update or delete
  matches `id` and the `rev` the verb read, so a row changed behind the lock
  is refused by the server, never overwritten. The journal's entries are
  documents of the same commit.
- `custdesk_state.seq` numbers the commits and every row carries the seq that
  last wrote it: catching up reads the rows `WHERE seq > last`. Each commit
  NOTIFYs the seq it wrote, so a listening app catches up at once.

The modules: `backend` (PgDatabase: the session, its locks, catching up),
`tables` (made when missing; the state row), `reads`, `writes` (a commit's
documents), `listen` (LISTEN/NOTIFY), `blobs` (the pictures' table) and
`connect` (connecting; the counts read without loading the store). This
package imports none of them: `custdesk stats` reads through `connect` alone.
"""

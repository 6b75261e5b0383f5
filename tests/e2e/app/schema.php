<?php

declare(strict_types=1);

/** Creates the schema (called once by the test before any traffic). */
function e2e_schema(\PDO $db): void
{
    // captures: deliberately NO unique constraint on payment_id. A double
    // capture must show up as a second row (counted by the test), not be
    // hidden by the database. UNIQUE(payment_id, token) cannot mask one:
    // two lock holders always have different fencing tokens.
    $db->exec('CREATE TABLE IF NOT EXISTS captures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        payment_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        source TEXT NOT NULL,
        token INTEGER NOT NULL,
        pid INTEGER NOT NULL,
        at REAL NOT NULL,
        UNIQUE (payment_id, token))');
    // Every lock acquisition of e2e_capture(), counted by the app itself.
    $db->exec('CREATE TABLE IF NOT EXISTS lock_holds (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        payment_id TEXT NOT NULL,
        token INTEGER NOT NULL,
        pid INTEGER NOT NULL,
        at REAL NOT NULL)');
    // Every time an IdempotencyStore::once() callback really ran.
    $db->exec('CREATE TABLE IF NOT EXISTS webhook_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        payment_id TEXT NOT NULL,
        status TEXT NOT NULL,
        advanced INTEGER NOT NULL,
        pid INTEGER NOT NULL,
        at REAL NOT NULL)');
}

-- audit_checkpoints: signed checkpoints of the audit chain (issue 6). A row attests that entry
-- `fino_a_id` of audit_entries had hash `hash` at `istante_ms`, signed with Ed25519; the signed
-- message is documented in store/src/audit_checkpoint.rs. `chiave_pubblica` (32 bytes) and
-- `firma` (64 bytes) are lowercase hex. TAGLIO marks a retention purge: entries up to
-- `fino_a_id` were removed and the chain goes on from `fino_a_id + 1`.
CREATE TABLE audit_checkpoints (
    id INTEGER PRIMARY KEY,
    fino_a_id INTEGER NOT NULL CHECK (fino_a_id >= 1),
    hash TEXT NOT NULL,
    istante_ms INTEGER NOT NULL,
    tipo TEXT NOT NULL CHECK (tipo IN ('PERIODICO', 'SU_RICHIESTA', 'TAGLIO')),
    chiave_pubblica TEXT NOT NULL,
    firma TEXT NOT NULL
);
CREATE INDEX audit_checkpoints_fino_a_id ON audit_checkpoints (fino_a_id);

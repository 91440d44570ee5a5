/**
 * The library's schema, one numbered step at a time. A step is never edited once released: a
 * change is a new step, applied in a transaction at start-up (see openLibraryDatabase).
 */
export interface Migration {
  version: number
  name: string
  sql: string
  /** The step drops and recreates a table that others refer to (see openLibraryDatabase). */
  rebuildsTables?: boolean
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'folders, photos, models and principal vectors',
    sql: `
      CREATE TABLE folders (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        added_at TEXT NOT NULL,
        -- set while the folder (an unmounted drive, a renamed folder) cannot be found
        offline_since TEXT,
        last_scan_at TEXT
      );
      CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        format TEXT,
        width INTEGER,
        height INTEGER,
        orientation INTEGER,
        taken_at TEXT,
        camera TEXT,
        -- 'ok' or 'error' as last read; 'offline' is shown while the folder is offline, so a
        -- photo that comes back keeps what it was without being read again
        status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
        reason TEXT,
        offline INTEGER NOT NULL DEFAULT 0,
        indexed_at TEXT NOT NULL
      );
      CREATE INDEX photos_folder ON photos(folder_id);
      CREATE INDEX photos_fingerprint ON photos(fingerprint);
      CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        model_sha256 TEXT NOT NULL,
        dim INTEGER NOT NULL,
        rows INTEGER NOT NULL,
        UNIQUE (name, model_sha256)
      );
      -- encodePrincipalVectors: a float32 scale, then D*K float16 values in the model's dk layout
      CREATE TABLE principal_vectors (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        vectors BLOB NOT NULL,
        PRIMARY KEY (photo_id, model_id)
      ) WITHOUT ROWID;
      CREATE INDEX principal_vectors_model ON principal_vectors(model_id);
    `
  },
  {
    version: 2,
    name: 'photo tags the user accepted, rejected or added, and a custom vocabulary',
    sql: `
      CREATE TABLE photo_tags (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('accepted', 'rejected', 'user')),
        created_at TEXT NOT NULL,
        PRIMARY KEY (photo_id, tag)
      ) WITHOUT ROWID;
      CREATE TABLE custom_vocabulary (
        tag TEXT PRIMARY KEY,
        added_at TEXT NOT NULL
      );
    `
  },
  {
    version: 3,
    name: 'XMP sidecars: where a tag came from, and the keywords this app wrote to each sidecar',
    sql: `
      -- 'xmp': a keyword imported from a sidecar or the photo's own metadata; never written back
      ALTER TABLE photo_tags ADD COLUMN source TEXT NOT NULL DEFAULT 'app' CHECK (source IN ('app', 'xmp'));
      CREATE INDEX photo_tags_tag ON photo_tags(tag);
      -- Per sidecar file: the entries this app added to each keyword field (JSON), so a later
      -- export removes only those; the tags it exported and the file's SHA-256 after that export
      -- let an export with nothing new skip the file without reading it.
      CREATE TABLE xmp_sidecars (
        sidecar_path TEXT PRIMARY KEY,
        photo_id INTEGER REFERENCES photos(id) ON DELETE SET NULL,
        written TEXT NOT NULL,
        exported_tags TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        exported_at TEXT NOT NULL
      );
    `
  },
  {
    version: 4,
    name: "each photo's best tags of the model's vocabulary, stored when it is indexed",
    sql: `
      -- The photo's best STORED_TOP tags of the model's base vocabulary (the pack's tags, or the
      -- default vocabulary), best first: its auto-tag suggestions, and search's per-photo cut-off
      -- (the n-th score decides whether a term ranks within the photo's top n). Replaced when
      -- the vocabulary changes (another hash) and deleted with the vectors when the file changes.
      CREATE TABLE vocabulary_scores (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        vocabulary TEXT NOT NULL,
        -- uint16 indices into the vocabulary, and their float32 scores
        tags BLOB NOT NULL,
        scores BLOB NOT NULL,
        PRIMARY KEY (photo_id, model_id)
      ) WITHOUT ROWID;
    `
  },
  {
    version: 5,
    name: 'a photo whose file is gone is kept as missing, with its vectors and the decisions on it',
    rebuildsTables: true,
    sql: `
      -- SQLite cannot change a column's constraints in place: the table is rebuilt (its id kept,
      -- so every reference to a photo stays valid). Two changes:
      -- * missing_since: set when the file is gone; the row, its vectors and the user's tags stay
      --   until the user purges it or a grace period passes, and a file of the same content
      --   found anywhere in the library takes the record back. A path is unique among the
      --   photos that are there, not among the missing (a new file may take a gone one's path).
      -- * folder_id is kept, not cascaded, when a folder leaves the library: its photos become
      --   missing instead of taking the user's decisions with them.
      CREATE TABLE photos_new (
        id INTEGER PRIMARY KEY,
        folder_id INTEGER REFERENCES folders(id) ON DELETE SET NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        format TEXT,
        width INTEGER,
        height INTEGER,
        orientation INTEGER,
        taken_at TEXT,
        camera TEXT,
        status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
        reason TEXT,
        offline INTEGER NOT NULL DEFAULT 0,
        indexed_at TEXT NOT NULL,
        missing_since TEXT
      );
      INSERT INTO photos_new (id, folder_id, path, size, mtime_ms, fingerprint, format, width, height, orientation, taken_at, camera, status, reason, offline, indexed_at)
        SELECT id, folder_id, path, size, mtime_ms, fingerprint, format, width, height, orientation, taken_at, camera, status, reason, offline, indexed_at FROM photos;
      DROP TABLE photos;
      ALTER TABLE photos_new RENAME TO photos;
      CREATE UNIQUE INDEX photos_present_path ON photos(path) WHERE missing_since IS NULL;
      CREATE INDEX photos_path ON photos(path);
      CREATE INDEX photos_folder ON photos(folder_id);
      CREATE INDEX photos_fingerprint ON photos(fingerprint);
      CREATE INDEX photos_missing ON photos(missing_since) WHERE missing_since IS NOT NULL;
      -- Counts changes that are not additions (a photo gone missing, back, moved or purged): the
      -- search index extends itself with new photos only while this stays the same.
      CREATE TABLE library_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO library_state (key, value) VALUES ('reshaped', 0);
    `
  },
  {
    version: 6,
    name: "the user's keywords as written, one per case-insensitive identity, with their hierarchy",
    rebuildsTables: true,
    sql: `
      -- A keyword's identity is its case-folded text (tagging/keywordText.ts keywordKey): tags
      -- and vocabulary words refer to it, and the spelling the user gave and the keyword's place
      -- in a hierarchy (Places|Africa|Kenya) are kept once, here. Tags stored before this step were
      -- lower-cased already: they are their own key and spelling, each a keyword of its own level.
      CREATE TABLE keywords (
        key TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        -- JSON array of levels from the top of the hierarchy down to the keyword itself
        path TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO keywords (key, text, path, created_at)
        SELECT tag, tag, json_array(tag), MIN(at) FROM (SELECT tag, created_at AS at FROM photo_tags UNION ALL SELECT tag, added_at FROM custom_vocabulary) GROUP BY tag;
      -- Rebuilt to refer to keywords: a rename (a new key) follows into every tag and word.
      CREATE TABLE photo_tags_new (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        tag TEXT NOT NULL REFERENCES keywords(key) ON UPDATE CASCADE,
        state TEXT NOT NULL CHECK (state IN ('accepted', 'rejected', 'user')),
        created_at TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT 'app' CHECK (source IN ('app', 'xmp')),
        PRIMARY KEY (photo_id, tag)
      ) WITHOUT ROWID;
      INSERT INTO photo_tags_new (photo_id, tag, state, created_at, source) SELECT photo_id, tag, state, created_at, source FROM photo_tags;
      DROP TABLE photo_tags;
      ALTER TABLE photo_tags_new RENAME TO photo_tags;
      CREATE INDEX photo_tags_tag ON photo_tags(tag);
      CREATE TABLE custom_vocabulary_new (
        tag TEXT PRIMARY KEY REFERENCES keywords(key) ON UPDATE CASCADE,
        added_at TEXT NOT NULL
      );
      INSERT INTO custom_vocabulary_new (tag, added_at) SELECT tag, added_at FROM custom_vocabulary;
      DROP TABLE custom_vocabulary;
      ALTER TABLE custom_vocabulary_new RENAME TO custom_vocabulary;
    `
  },
  {
    version: 7,
    name: "word vectors learned for the user's keywords from the photos that carry them",
    sql: `
      -- One vector per keyword and model (tagging/keywordLearner.ts). It follows a renamed
      -- keyword and goes with a merged one; signature names the photos it was learned from, so
      -- a keyword whose photos did not change is not learned again.
      CREATE TABLE learned_keywords (
        keyword TEXT NOT NULL REFERENCES keywords(key) ON UPDATE CASCADE ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        -- float32, unit length, in the model's word space
        vector BLOB NOT NULL,
        examples INTEGER NOT NULL,
        quality TEXT NOT NULL,
        quality_summary TEXT NOT NULL,
        average_precision REAL,
        signature TEXT NOT NULL,
        learned_at TEXT NOT NULL,
        PRIMARY KEY (keyword, model_id)
      ) WITHOUT ROWID;
      CREATE INDEX learned_keywords_model ON learned_keywords(model_id);
    `
  },
  {
    version: 8,
    name: 'a RAW and the JPEG shot with it (same folder, same name) are one photo',
    sql: `
      -- The photo's row is the RAW's; the JPEG beside it is recorded here, as it was when last
      -- read, so a change to either file is seen. reason: why the JPEG could not be read, the
      -- RAW's own preview then giving the pixels.
      CREATE TABLE photo_companions (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        reason TEXT
      );
      CREATE INDEX photo_companions_path ON photo_companions(path);
    `
  },
  {
    version: 9,
    name: 'a history of tagging actions, so that each can be undone and redone',
    sql: `
      -- One row per tagging action (accept, reject, add-tag, remove-tag on one photo or many):
      -- the newest steps not undone are what undo takes back; undone = 1 marks the redo branch,
      -- which the next action discards. Bounded (tagging/tagHistory.ts HISTORY_STEPS).
      CREATE TABLE tag_history_steps (
        id INTEGER PRIMARY KEY,
        action TEXT NOT NULL CHECK (action IN ('accept', 'reject', 'add-tag', 'remove-tag')),
        -- A rename follows the keyword; a keyword merged away takes its steps with it.
        tag TEXT NOT NULL REFERENCES keywords(key) ON UPDATE CASCADE ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        undone INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX tag_history_steps_tag ON tag_history_steps(tag);
      -- Each photo's tag before and after the step, whole (state, source, created_at), so undo
      -- and redo put back exactly what was there; a NULL state is "no tag". A missing photo's row
      -- stays, so it is restored too; a purged one takes its entries with it.
      CREATE TABLE tag_history_changes (
        step_id INTEGER NOT NULL REFERENCES tag_history_steps(id) ON DELETE CASCADE,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        before_state TEXT CHECK (before_state IN ('accepted', 'rejected', 'user')),
        before_source TEXT,
        before_created_at TEXT,
        after_state TEXT CHECK (after_state IN ('accepted', 'rejected', 'user')),
        after_source TEXT,
        after_created_at TEXT,
        PRIMARY KEY (step_id, photo_id)
      ) WITHOUT ROWID;
      CREATE INDEX tag_history_changes_photo ON tag_history_changes(photo_id);
    `
  },
  {
    version: 10,
    name: "each photo's capture date, for the grid's date order and search's date terms",
    sql: `
      -- The local wall clock when the photo was taken, 'YYYY-MM-DDTHH:MM:SS': EXIF's time as the
      -- camera wrote it, its UTC offset (where recorded) set aside, so that a photo taken at 23:30
      -- in Tokyo is of that evening wherever it is looked at; else, for a photo without an EXIF
      -- date, its file's modification time in this computer's time zone when the row was written.
      -- Kept by triggers, so that every way a row is written (an upsert included) keeps it right.
      -- A later step that rebuilds photos must carry the column and recreate the triggers.
      ALTER TABLE photos ADD COLUMN captured_at TEXT;
      UPDATE photos SET captured_at = COALESCE(substr(taken_at, 1, 19), strftime('%Y-%m-%dT%H:%M:%S', mtime_ms / 1000.0, 'unixepoch', 'localtime'));
      CREATE TRIGGER photos_captured_insert AFTER INSERT ON photos BEGIN
        UPDATE photos SET captured_at = COALESCE(substr(NEW.taken_at, 1, 19), strftime('%Y-%m-%dT%H:%M:%S', NEW.mtime_ms / 1000.0, 'unixepoch', 'localtime')) WHERE id = NEW.id;
      END;
      CREATE TRIGGER photos_captured_update AFTER UPDATE OF taken_at, mtime_ms ON photos BEGIN
        UPDATE photos SET captured_at = COALESCE(substr(NEW.taken_at, 1, 19), strftime('%Y-%m-%dT%H:%M:%S', NEW.mtime_ms / 1000.0, 'unixepoch', 'localtime')) WHERE id = NEW.id;
      END;
      -- The grid's default order (newest first, then by path) and date ranges, present photos only.
      CREATE INDEX photos_captured ON photos(captured_at DESC, path) WHERE missing_since IS NULL;
    `
  },
  {
    version: 11,
    name: "each learned keyword's own cut-off for search and suggestions",
    sql: `
      -- The score from which a photo is taken to carry the keyword (tagging/keywordThreshold.ts);
      -- NULL where it could not be measured. Rows learned before it have none: the learner's
      -- signatures changed with it, so they are learned again.
      ALTER TABLE learned_keywords ADD COLUMN threshold REAL;
    `
  }
]

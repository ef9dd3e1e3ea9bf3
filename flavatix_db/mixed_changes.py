"""Mixed changes to flavor_descriptors, and a digest of every summary, for refresh checks.

The changes are what a refresh typically follows between two runs: half new
rows, a quarter updates (rows moved to another user, respelled, or losing
their category), a quarter deletes, spread over a fixed set of users, with a
few spellings never seen before. The digest lets a caller compare the
summaries an incremental refresh leaves with those of a full rebuild.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg2.extensions

from flavatix_db.models import REFRESH_COUNTS

Cursor = psycopg2.extensions.cursor

# What refresh_descriptor_views() keeps up to date (tables and materialized views).
SUMMARIES = (
    "mv_user_descriptor_summary",
    "mv_global_descriptor_stats",
    "mv_category_descriptor_summary",
    "mv_wheel_generation_stats",
    "mv_user_wheel_subcategories",
    "mv_descriptor_search",
    "mv_descriptor_search_shared",
    "mv_descriptor_search_forms",
    "mv_descriptor_search_prefixes",
    "mv_descriptor_search_pairs",
    "mv_descriptor_search_pair_users",
    "mv_descriptor_search_user_pairs",
)
# The counts the refresh adds the changes to (revision 003).
COUNTS = REFRESH_COUNTS
NEW_SPELLINGS = 50

# The rows to change: the newest few of each user, one index range scan each.
PICK_ROWS = """
CREATE TEMP TABLE bench_victims ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY v.id) AS n, v.id, v.user_id
FROM unnest(%(users)s::uuid[]) AS u (user_id)
CROSS JOIN LATERAL (SELECT d.id, d.user_id FROM public.flavor_descriptors d
                    WHERE d.user_id = u.user_id
                    ORDER BY d.created_at DESC, d.id DESC LIMIT %(per_user)s) v
"""

# New rows: copies of picked rows under a new id and source, some newly spelled.
INSERT_ROWS = """
INSERT INTO public.flavor_descriptors
    (user_id, source_type, source_id, descriptor_text, descriptor_type, category,
     subcategory, confidence_score, intensity, item_name, item_category, created_at)
SELECT d.user_id, d.source_type, gen_random_uuid(),
       CASE WHEN v.n <= %(new_spellings)s THEN 'zz new spelling ' || v.n
            ELSE d.descriptor_text END,
       d.descriptor_type, d.category, d.subcategory, d.confidence_score, d.intensity,
       d.item_name, d.item_category, now()
FROM bench_victims v JOIN public.flavor_descriptors d ON d.id = v.id
WHERE v.n <= %(inserts)s
"""

# Updates of the next quarter: by thirds, another user, another spelling of
# another picked row (skipped where the source already has it: probed by the
# source's unique key, where the spelling alone would send the planner to the
# trigram index, hundreds of thousands of rows per popular form at 10M), no
# category. One row per source, so two rows of a source never take the same
# spelling in one statement.
UPDATE_ROWS = """
UPDATE public.flavor_descriptors d
SET user_id = CASE WHEN v.n %% 3 = 0 THEN o.user_id ELSE d.user_id END,
    descriptor_text = CASE WHEN v.n %% 3 = 1 THEN o.descriptor_text ELSE d.descriptor_text END,
    category = CASE WHEN v.n %% 3 = 2 THEN NULL ELSE d.category END
FROM (SELECT DISTINCT ON (s.source_type, s.source_id) v.n, v.id
      FROM bench_victims v JOIN public.flavor_descriptors s ON s.id = v.id
      WHERE v.n > %(inserts)s AND v.n <= %(inserts)s + %(updates)s AND v.n %% 2 = 1
      ORDER BY s.source_type, s.source_id, v.n) v
JOIN bench_victims w ON w.n = v.n + 1
JOIN public.flavor_descriptors o ON o.id = w.id
WHERE d.id = v.id
  AND NOT EXISTS (SELECT FROM public.flavor_descriptors x
                  WHERE x.source_type = d.source_type AND x.source_id = d.source_id
                    AND x.normalized_form = o.normalized_form
                    AND x.descriptor_type = d.descriptor_type AND v.n %% 3 = 1)
"""

DELETE_ROWS = """
DELETE FROM public.flavor_descriptors d
USING bench_victims v
WHERE d.id = v.id AND v.n > %(inserts)s + %(updates)s
  AND v.n <= %(inserts)s + %(updates)s + %(deletes)s
"""


def apply(cur: Cursor, changes: int, users: Sequence[str]) -> int:
    """Apply about ``changes`` changed rows over ``users`` in one transaction; rows changed."""
    if changes < 1:
        raise ValueError("changes must be at least 1")
    if not users:
        raise ValueError("users must not be empty")
    inserts = changes // 2
    updates = changes // 4
    deletes = changes - inserts - updates
    # Updates use every other picked row (the next one donates the new value).
    needed = inserts + 2 * updates + deletes
    params = {
        "users": list(users),
        "per_user": -(-needed // len(users)),
        "inserts": inserts,
        "updates": 2 * updates,
        "deletes": deletes,
        "new_spellings": NEW_SPELLINGS,
    }
    changed = 0
    conn = cur.connection
    autocommit = conn.autocommit
    conn.autocommit = False
    try:
        cur.execute(PICK_ROWS, params)
        # Its size, so the joins below probe by key rather than scan.
        cur.execute("ANALYZE bench_victims")
        for statement in (INSERT_ROWS, UPDATE_ROWS, DELETE_ROWS):
            cur.execute(statement, params)
            changed += max(cur.rowcount, 0)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.autocommit = autocommit
    return changed


def digest(cur: Cursor) -> dict[str, str]:
    """Row count and an order-free md5 of the rows of every summary and count."""
    found = {}
    for name in (*SUMMARIES, *COUNTS):
        cur.execute(
            "SELECT count(*) || ':' "
            "|| coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
            f"FROM public.{name} t"
        )
        row = cur.fetchone()
        found[name] = str(row[0]) if row else ""
    return found

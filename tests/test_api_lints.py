"""What Supabase's database linter (splinter) would flag at head, on the Supabase stand-in."""

from __future__ import annotations

from tests.dbtools import column, execute, insert_descriptor, query
from tests.handbuilt import USER_A, call_as, load_handbuilt

# security_definer_function_executable: a SECURITY DEFINER function in an
# exposed schema that anon or authenticated may execute.
DEFINER_EXECUTABLE = """
SELECT p.oid::regprocedure::text
FROM pg_proc p
WHERE p.prosecdef AND p.pronamespace = 'public'::regnamespace
  AND (has_function_privilege('anon', p.oid, 'EXECUTE')
       OR has_function_privilege('authenticated', p.oid, 'EXECUTE'))
ORDER BY 1
"""

# materialized_view_in_api: a materialized view in an exposed schema that anon
# or authenticated may read.
MATVIEW_IN_API = """
SELECT c.relname
FROM pg_class c
WHERE c.relkind = 'm' AND c.relnamespace = 'public'::regnamespace
  AND (has_table_privilege('anon', c.oid, 'SELECT')
       OR has_table_privilege('authenticated', c.oid, 'SELECT'))
ORDER BY 1
"""


def test_no_security_definer_function_is_executable_by_api_roles(supabase_head_db_url: str) -> None:
    assert column(supabase_head_db_url, DEFINER_EXECUTABLE) == []


def test_no_materialized_view_is_readable_by_api_roles(supabase_head_db_url: str) -> None:
    assert column(supabase_head_db_url, MATVIEW_IN_API) == []


def test_aggregates_still_answer_anon_through_invoker_functions(supabase_head_db_url: str) -> None:
    url = supabase_head_db_url
    load_handbuilt(url, supabase=True)
    # Three users write one group: the universal wheel anon gets holds only
    # groups at least three users wrote.
    shared_by = (
        USER_A,
        "00000000-0000-4000-8000-00000000cccc",
        "00000000-0000-4000-8000-00000000dddd",
    )
    execute(url, "INSERT INTO auth.users (id) VALUES (%s), (%s)", shared_by[1:])
    for user in shared_by:
        insert_descriptor(url, user_id=user, descriptor_text="Peat", category="Smoky")
    execute(url, "SELECT public.refresh_descriptor_views()")
    universal = "SELECT public.get_wheel_data_fast(NULL, 'combined', 'universal') -> '{}'"
    assert call_as(url, universal.format("totalDescriptors"), role="anon") == [(3,)]
    assert query(url, universal.format("totalDescriptors")) == [(16,)]  # the owner's wheel
    mine = call_as(
        url,
        "SELECT public.get_user_descriptor_stats(%s) -> 'totalDescriptors'",
        (USER_A,),
        role="authenticated",
        sub=USER_A,
    )
    assert mine == [(13,)]

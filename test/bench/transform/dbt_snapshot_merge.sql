-- dbt's snapshot run for the same change, as dbt-postgres generates it
-- (snapshot_staging_table with the check strategy on all columns and
-- invalidate_hard_deletes, then snapshot_merge_sql), in one transaction.
BEGIN;

create temporary table "dbt_user_snapshot__dbt_tmp" as (
with snapshot_query as (
    select * from bench.user_v2
),

snapshotted_data as (
    select *,
        id as dbt_unique_key
    from bench.dbt_user_snapshot
    where dbt_valid_to is null
),

insertions_source_data as (
    select
        *,
        id as dbt_unique_key,
        now()::timestamp without time zone as dbt_updated_at,
        now()::timestamp without time zone as dbt_valid_from,
        nullif(now()::timestamp without time zone, now()::timestamp without time zone) as dbt_valid_to,
        md5(coalesce(cast(id as varchar ), '') || '|' || coalesce(cast(now()::timestamp without time zone as varchar ), '')) as dbt_scd_id
    from snapshot_query
),

updates_source_data as (
    select
        *,
        id as dbt_unique_key,
        now()::timestamp without time zone as dbt_updated_at,
        now()::timestamp without time zone as dbt_valid_from,
        now()::timestamp without time zone as dbt_valid_to
    from snapshot_query
),

deletes_source_data as (
    select
        *,
        id as dbt_unique_key
    from snapshot_query
),

insertions as (
    select
        'insert' as dbt_change_type,
        source_data.*
    from insertions_source_data as source_data
    left outer join snapshotted_data on snapshotted_data.dbt_unique_key = source_data.dbt_unique_key
    where snapshotted_data.dbt_unique_key is null
       or (
            snapshotted_data.dbt_unique_key is not null
        and (
            (
        snapshotted_data."id" != source_data."id"
        or
        (
            ((snapshotted_data."id" is null) and not (source_data."id" is null))
            or
            ((not snapshotted_data."id" is null) and (source_data."id" is null))
        )
        or
        snapshotted_data."name" != source_data."name"
        or
        (
            ((snapshotted_data."name" is null) and not (source_data."name" is null))
            or
            ((not snapshotted_data."name" is null) and (source_data."name" is null))
        )
        or
        snapshotted_data."email" != source_data."email"
        or
        (
            ((snapshotted_data."email" is null) and not (source_data."email" is null))
            or
            ((not snapshotted_data."email" is null) and (source_data."email" is null))
        )
        or
        snapshotted_data."city" != source_data."city"
        or
        (
            ((snapshotted_data."city" is null) and not (source_data."city" is null))
            or
            ((not snapshotted_data."city" is null) and (source_data."city" is null))
        )
        or
        snapshotted_data."segment" != source_data."segment"
        or
        (
            ((snapshotted_data."segment" is null) and not (source_data."segment" is null))
            or
            ((not snapshotted_data."segment" is null) and (source_data."segment" is null))
        )
        or
        snapshotted_data."score" != source_data."score"
        or
        (
            ((snapshotted_data."score" is null) and not (source_data."score" is null))
            or
            ((not snapshotted_data."score" is null) and (source_data."score" is null))
        )
        or
        snapshotted_data."updated_at" != source_data."updated_at"
        or
        (
            ((snapshotted_data."updated_at" is null) and not (source_data."updated_at" is null))
            or
            ((not snapshotted_data."updated_at" is null) and (source_data."updated_at" is null))
        )
    )
        )
    )
),

updates as (
    select
        'update' as dbt_change_type,
        source_data.*,
        snapshotted_data.dbt_scd_id
    from updates_source_data as source_data
    join snapshotted_data on snapshotted_data.dbt_unique_key = source_data.dbt_unique_key
    where (
        (
        snapshotted_data."id" != source_data."id"
        or
        (
            ((snapshotted_data."id" is null) and not (source_data."id" is null))
            or
            ((not snapshotted_data."id" is null) and (source_data."id" is null))
        )
        or
        snapshotted_data."name" != source_data."name"
        or
        (
            ((snapshotted_data."name" is null) and not (source_data."name" is null))
            or
            ((not snapshotted_data."name" is null) and (source_data."name" is null))
        )
        or
        snapshotted_data."email" != source_data."email"
        or
        (
            ((snapshotted_data."email" is null) and not (source_data."email" is null))
            or
            ((not snapshotted_data."email" is null) and (source_data."email" is null))
        )
        or
        snapshotted_data."city" != source_data."city"
        or
        (
            ((snapshotted_data."city" is null) and not (source_data."city" is null))
            or
            ((not snapshotted_data."city" is null) and (source_data."city" is null))
        )
        or
        snapshotted_data."segment" != source_data."segment"
        or
        (
            ((snapshotted_data."segment" is null) and not (source_data."segment" is null))
            or
            ((not snapshotted_data."segment" is null) and (source_data."segment" is null))
        )
        or
        snapshotted_data."score" != source_data."score"
        or
        (
            ((snapshotted_data."score" is null) and not (source_data."score" is null))
            or
            ((not snapshotted_data."score" is null) and (source_data."score" is null))
        )
        or
        snapshotted_data."updated_at" != source_data."updated_at"
        or
        (
            ((snapshotted_data."updated_at" is null) and not (source_data."updated_at" is null))
            or
            ((not snapshotted_data."updated_at" is null) and (source_data."updated_at" is null))
        )
    )
    )
),

deletes as (
    select
        'delete' as dbt_change_type,
        source_data.*,
        now()::timestamp without time zone as dbt_valid_from,
        now()::timestamp without time zone as dbt_updated_at,
        now()::timestamp without time zone as dbt_valid_to,
        snapshotted_data.dbt_scd_id
    from snapshotted_data
    left join deletes_source_data as source_data on snapshotted_data.dbt_unique_key = source_data.dbt_unique_key
    where source_data.dbt_unique_key is null
)

select * from insertions
union all
select * from updates
union all
select * from deletes
);

update bench.dbt_user_snapshot
set dbt_valid_to = DBT_INTERNAL_SOURCE.dbt_valid_to
from "dbt_user_snapshot__dbt_tmp" as DBT_INTERNAL_SOURCE
where DBT_INTERNAL_SOURCE.dbt_scd_id::text = bench.dbt_user_snapshot.dbt_scd_id::text
  and DBT_INTERNAL_SOURCE.dbt_change_type::text in ('update'::text, 'delete'::text)
  and bench.dbt_user_snapshot.dbt_valid_to is null;

insert into bench.dbt_user_snapshot ("id", "name", "email", "city", "segment", "score", "updated_at", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to", "dbt_scd_id")
select DBT_INTERNAL_SOURCE."id", DBT_INTERNAL_SOURCE."name", DBT_INTERNAL_SOURCE."email", DBT_INTERNAL_SOURCE."city", DBT_INTERNAL_SOURCE."segment", DBT_INTERNAL_SOURCE."score", DBT_INTERNAL_SOURCE."updated_at", DBT_INTERNAL_SOURCE."dbt_updated_at", DBT_INTERNAL_SOURCE."dbt_valid_from", DBT_INTERNAL_SOURCE."dbt_valid_to", DBT_INTERNAL_SOURCE."dbt_scd_id"
from "dbt_user_snapshot__dbt_tmp" as DBT_INTERNAL_SOURCE
where DBT_INTERNAL_SOURCE.dbt_change_type::text = 'insert'::text;

COMMIT;

-- The status intervals of each regime and element (seed export_control_status) are a clean
-- history: each interval ends after it starts, the first starts on the regime's announced
-- date, each next one starts on the day the previous one ends (no gap, no overlap), only the
-- last is open-ended, and every regime and element of export_controls has a history.
-- Returns one row per problem.
with

statuses as (
    select
        regime_id,
        coalesce(element, '') as element,
        status,
        valid_from,
        valid_to,
        lead(valid_from) over (
            partition by regime_id, coalesce(element, '') order by valid_from
        ) as next_from,
        row_number() over (
            partition by regime_id, coalesce(element, '') order by valid_from
        ) as position
    from {{ ref('export_control_status') }}
),

controls as (
    select
        regime_id,
        coalesce(element, '') as element,
        announced_date
    from {{ ref('export_controls') }}
),

problems as (
    select
        regime_id,
        element,
        valid_from,
        'valid_to is not after valid_from' as problem
    from statuses
    where valid_to is not null and valid_to <= valid_from

    union all

    select
        regime_id,
        element,
        valid_from,
        'overlaps the next interval (starting ' || next_from || ')' as problem
    from statuses
    where next_from is not null and (valid_to is null or valid_to > next_from)

    union all

    select
        regime_id,
        element,
        valid_from,
        'gap before the next interval (starting ' || next_from || ')' as problem
    from statuses
    where next_from is not null and valid_to < next_from

    union all

    select
        regime_id,
        element,
        valid_from,
        'last interval ends (' || valid_to || '): the status after it is unstated' as problem
    from statuses
    where next_from is null and valid_to is not null

    union all

    select
        statuses.regime_id,
        statuses.element,
        statuses.valid_from,
        'first interval does not start on the announced date ' || controls.announced_date as problem
    from statuses
    inner join controls
        on statuses.regime_id = controls.regime_id and statuses.element = controls.element
    where statuses.position = 1 and statuses.valid_from != controls.announced_date

    union all

    select
        controls.regime_id,
        controls.element,
        cast(null as date) as valid_from,
        'no status interval' as problem
    from controls
    left join statuses
        on controls.regime_id = statuses.regime_id and controls.element = statuses.element
    where statuses.regime_id is null
)

select * from problems

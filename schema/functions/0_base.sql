-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 0_base: the functions that CHECK constraints and data changes of the
-- numbered migrations call (tocsin_is_e164 in contacts, senders, messages
-- and more; tocsin_blast_filter_error in blasts; tocsin_text_language in
-- 019's fill of keywords.language). Applied BEFORE the numbered migrations
-- (every other file after), so it may name no table, view or other
-- function. Changing one of these changes which rows a constraint accepts:
-- existing rows are not checked again, so a stricter rule needs a
-- numbered migration that fixes or checks them.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- Whether p is '+', a digit 1-9, then 7 to 14 more digits 0-9 (E.164),
-- spelled without a regular expression: every UPDATE of messages checks
-- its to_phone again, and a regex match cost twice this (1.5 against
-- 0.7 us a row). Not STRICT so that it stays inlined into the CHECK
-- constraints (an AND is not strict); NULL in gives NULL out all the same.
-- The digits left after rtrim are only ASCII ones, so octet_length is the
-- length in characters.
CREATE OR REPLACE FUNCTION tocsin_is_e164(p text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT octet_length(p) BETWEEN 9 AND 16 AND rtrim(p, '0123456789') = '+' AND substr(p, 2, 1) <> '0' $$;

-- Why a blast filter is invalid, or NULL when it is valid. Filters: {}
-- (everyone on the list) or {"field": NAME, "equals": TEXT}, matching
-- contacts whose field equals TEXT ignoring case.
CREATE OR REPLACE FUNCTION tocsin_blast_filter_error(p_filter jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_filter IS NULL OR jsonb_typeof(p_filter) <> 'object' THEN 'a filter must be a JSON object'
        WHEN p_filter = '{}' THEN NULL
        WHEN EXISTS (SELECT 1 FROM jsonb_object_keys(p_filter) k WHERE k NOT IN ('field', 'equals'))
            THEN 'a filter has exactly the keys "field" and "equals"'
        WHEN jsonb_typeof(p_filter->'field') IS DISTINCT FROM 'string'
             OR NOT (p_filter->>'field') ~ '^[A-Za-z_][A-Za-z0-9_]{0,63}$'
            THEN '"field" must name a contact field (letters, digits and _)'
        WHEN jsonb_typeof(p_filter->'equals') IS DISTINCT FROM 'string' OR length(p_filter->>'equals') > 200
            THEN '"equals" must be a string of at most 200 characters'
    END
$$;

CREATE OR REPLACE FUNCTION tocsin_text_language(p_text text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_text ~* '\m(ayuda|alto|tarifas|responde|mensajes)\M' THEN 'es' ELSE 'en' END
$$;

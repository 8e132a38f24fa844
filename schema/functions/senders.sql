-- SPDX-License-Identifier: AGPL-3.0-or-later
-- senders: an admin's Senders screen (issue 19): the org's senders as the
-- screen lists them (never their sealed credentials), adding one (sealed
-- by the dashboard with the published key: lib/crypto.h), replacing its
-- credentials, its rate and its carrier account's limit, disabling and
-- enabling it, and a test message through the queue. Every change is
-- written to audit_events, never a secret. The checks of the fields are
-- lib/sender_check.c's (shared with tocsinctl sender add); the tables are
-- 003, 005 and 027; the routes dashboard/api_senders.c.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- One sender as the screen shows it. The account limit is the carrier
-- account's (provider_account_limits), shared by every sender on it.
CREATE OR REPLACE FUNCTION tocsin_sender_admin_json(p_id bigint) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', s.id, 'address', s.address, 'kind', s.kind, 'provider', s.provider,
        'account_sid', s.account_sid, 'telnyx_public_key', s.telnyx_public_key,
        'messages_per_second', s.messages_per_second,
        'account_limit', l.messages_per_second,
        'base_url', s.base_url,
        'state', CASE WHEN s.disabled_at IS NULL THEN 'enabled' ELSE 'disabled' END,
        'disabled_at', s.disabled_at, 'created_at', s.created_at,
        'credentials_format', split_part(s.credentials_sealed, '.', 1))
      FROM senders s
      LEFT JOIN provider_account_limits l ON l.provider = s.provider AND l.account = s.account_sid
     WHERE s.id = p_id $$;

-- The screen: the org's senders, whether the sealing key is published
-- (without it nothing can be added), and the webhook URLs (built by the
-- dashboard from TOCSIN_PUBLIC_URL and the gateway's routes, lib/webhooks.h).
CREATE OR REPLACE FUNCTION tocsin_senders_admin(p_org bigint, p_twilio_inbound text,
                                                p_twilio_status text, p_telnyx text,
                                                OUT status int, OUT body json)
LANGUAGE sql STABLE AS $$
    SELECT 200, json_build_object(
        'sealing_key_ready', EXISTS (SELECT 1 FROM sealing_key),
        'webhooks', json_build_object(
            'twilio', json_build_object('inbound', p_twilio_inbound, 'status', p_twilio_status),
            'telnyx', json_build_object('webhook', p_telnyx)),
        'senders', coalesce((SELECT json_agg(tocsin_sender_admin_json(s.id) ORDER BY s.id)
                               FROM senders s WHERE s.org_id = p_org), '[]'))
$$;

-- The carrier account's limit, set from a sender's form: '' or NULL leaves
-- it, '0' removes it. Refused (returns the error) when the account is
-- also another org's: one org's admin must not slow another's sending.
CREATE OR REPLACE FUNCTION tocsin_sender_account_limit_set(p_org bigint, p_user bigint, p_sender bigint,
                                                           p_provider text, p_account_sid text,
                                                           p_limit text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_old numeric;
BEGIN
    IF coalesce(p_limit, '') = '' THEN
        RETURN NULL;
    END IF;
    IF p_account_sid IS NULL THEN
        RETURN tocsin_api_error(400, 'invalid',
            'an account limit needs a carrier account: only a Twilio sender (its account SID) has one');
    END IF;
    IF EXISTS (SELECT 1 FROM senders WHERE provider = p_provider AND account_sid = p_account_sid
                                        AND org_id <> p_org) THEN
        RETURN tocsin_api_error(409, 'shared_account',
            'this carrier account also sends for another organisation: its limit is set by the operator (tocsinctl sender limit)');
    END IF;
    SELECT messages_per_second INTO v_old FROM provider_account_limits
     WHERE provider = p_provider AND account = p_account_sid;
    IF p_limit::numeric = 0 THEN
        DELETE FROM provider_account_limits WHERE provider = p_provider AND account = p_account_sid;
    ELSE
        INSERT INTO provider_account_limits (provider, account, messages_per_second)
        VALUES (p_provider, p_account_sid, p_limit::numeric)
        ON CONFLICT (provider, account) DO UPDATE SET messages_per_second = EXCLUDED.messages_per_second;
    END IF;
    IF v_old IS DISTINCT FROM nullif(p_limit::numeric, 0) THEN
        INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
        VALUES (p_org, p_user, 'sender.account_limit', 'sender', p_sender,
                jsonb_build_object('account', p_provider || ':' || p_account_sid,
                                   'old', v_old, 'new', nullif(p_limit::numeric, 0)));
    END IF;
    RETURN NULL;
END $$;

-- Adds a sender whose fields lib/sender_check.c accepted and whose secret
-- the dashboard sealed for p_id (taken from the sequence first, as the seal
-- names the row). Returns (201, sender), (409, the address is taken) or
-- the account limit's error (and then nothing is added).
CREATE OR REPLACE FUNCTION tocsin_sender_add(p_org bigint, p_user bigint, p_id bigint, p_address text,
                                             p_kind text, p_provider text, p_account_sid text,
                                             p_sealed text, p_public_key text, p_mps text,
                                             p_base_url text, p_account_limit text)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
DECLARE
    v_err json;
BEGIN
    IF EXISTS (SELECT 1 FROM senders WHERE address = p_address) THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'taken',
            format('%s is already a sender (here or in another organisation)', p_address));
        RETURN;
    END IF;
    v_err := tocsin_sender_account_limit_set(p_org, p_user, p_id, p_provider, p_account_sid,
                                             p_account_limit);
    IF v_err IS NOT NULL THEN
        RETURN QUERY SELECT (v_err->'error'->>'status')::int, v_err;
        RETURN;
    END IF;
    INSERT INTO senders (id, org_id, address, kind, provider, account_sid, credentials_sealed,
                         telnyx_public_key, messages_per_second, base_url)
    OVERRIDING SYSTEM VALUE
    VALUES (p_id, p_org, p_address, p_kind, p_provider, p_account_sid, p_sealed, p_public_key,
            p_mps::numeric, p_base_url);
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_user, 'sender.add', 'sender', p_id,
            jsonb_build_object('address', p_address, 'kind', p_kind, 'provider', p_provider,
                               'account_sid', p_account_sid, 'messages_per_second', p_mps::numeric,
                               'base_url', p_base_url, 'telnyx_public_key', p_public_key));
    RETURN QUERY SELECT 201, tocsin_sender_admin_json(p_id);
END $$;

-- Rate and account limit (each NULL or '': unchanged).
CREATE OR REPLACE FUNCTION tocsin_sender_update(p_org bigint, p_user bigint, p_id bigint, p_mps text,
                                                p_account_limit text)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
DECLARE
    v_s senders;
    v_old numeric;
    v_err json;
BEGIN
    SELECT * INTO v_s FROM senders WHERE id = p_id AND org_id = p_org FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    v_old := v_s.messages_per_second;
    v_err := tocsin_sender_account_limit_set(p_org, p_user, p_id, v_s.provider, v_s.account_sid,
                                             p_account_limit);
    IF v_err IS NOT NULL THEN
        RETURN QUERY SELECT (v_err->'error'->>'status')::int, v_err;
        RETURN;
    END IF;
    IF coalesce(p_mps, '') <> '' AND p_mps::numeric <> v_old THEN
        UPDATE senders SET messages_per_second = p_mps::numeric WHERE id = p_id;
        INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
        VALUES (p_org, p_user, 'sender.rate', 'sender', p_id,
                jsonb_build_object('old', v_old, 'new', p_mps::numeric));
    END IF;
    RETURN QUERY SELECT 200, tocsin_sender_admin_json(p_id);
END $$;

-- New credentials, sealed by the dashboard for this row and its provider
-- (p_provider must still be the row's: the seal names it). The Telnyx
-- public key is replaced when given.
CREATE OR REPLACE FUNCTION tocsin_sender_credentials_replace(p_org bigint, p_user bigint, p_id bigint,
                                                             p_provider text, p_sealed text,
                                                             p_public_key text)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
BEGIN
    UPDATE senders SET credentials_sealed = p_sealed,
                       telnyx_public_key = coalesce(p_public_key, telnyx_public_key)
     WHERE id = p_id AND org_id = p_org AND provider = p_provider;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_user, 'sender.credentials', 'sender', p_id,
            jsonb_build_object('public_key_replaced', p_public_key IS NOT NULL));
    RETURN QUERY SELECT 200, tocsin_sender_admin_json(p_id);
END $$;

CREATE OR REPLACE FUNCTION tocsin_sender_set_disabled(p_org bigint, p_user bigint, p_id bigint,
                                                      p_disabled boolean)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
BEGIN
    UPDATE senders SET disabled_at = CASE WHEN p_disabled THEN coalesce(disabled_at, now()) END
     WHERE id = p_id AND org_id = p_org;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_user, CASE WHEN p_disabled THEN 'sender.disable' ELSE 'sender.enable' END,
            'sender', p_id, '{}');
    RETURN QUERY SELECT 200, tocsin_sender_admin_json(p_id);
END $$;

-- A test message from a sender to a number the admin typed (E.164, parsed
-- by the dashboard), through the queue like any other: the worker sends
-- it and re-checks the opt-out list. Refused at once for an opted-out
-- number and for a disabled sender.
CREATE OR REPLACE FUNCTION tocsin_sender_test(p_org bigint, p_user bigint, p_id bigint, p_phone text,
                                              p_body text, p_encoding text, p_segments int)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
DECLARE
    v_s senders;
    v_msg bigint;
BEGIN
    SELECT * INTO v_s FROM senders WHERE id = p_id AND org_id = p_org;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v_s.disabled_at IS NOT NULL THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'disabled',
            'this sender is disabled: enable it to send a test message');
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM opt_outs WHERE org_id = p_org AND phone = p_phone) THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'opted_out',
            format('%s has opted out of this organisation''s texts: nothing can be sent to it (it must text START to the sender first)', p_phone));
        RETURN;
    END IF;
    INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane,
                          purpose, sent_by_user_id)
    VALUES (p_org, p_id, v_s.provider, p_phone, p_body, p_encoding, p_segments, 'conversational',
            'test', p_user)
    RETURNING id INTO v_msg;
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_user, 'sender.test', 'sender', p_id,
            jsonb_build_object('message_id', v_msg, 'to', p_phone));
    RETURN QUERY SELECT 201, tocsin_sender_test_json(p_org, p_id, v_msg);
END $$;

-- A test message's state as shown (in flight: 'sending', schema 034), and
-- the carrier's own words when it refused.
CREATE OR REPLACE FUNCTION tocsin_sender_test_json(p_org bigint, p_sender bigint, p_msg bigint)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', m.id, 'to', m.to_phone, 'state', tocsin_message_shown_state(m.id, m.state),
                             'final', m.state IN ('delivered', 'failed', 'undelivered', 'suppressed', 'cancelled'),
                             'error_code', m.error_code, 'error_message', m.error_message,
                             'created_at', m.created_at, 'updated_at', m.updated_at)
      FROM messages m
     WHERE m.id = p_msg AND m.org_id = p_org AND m.sender_id = p_sender AND m.purpose = 'test' $$;

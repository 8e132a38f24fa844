-- SPDX-License-Identifier: AGPL-3.0-or-later
-- sso: single sign-on's steps in the database (tables: 031_sso.sql; the
-- flow: dashboard/sso_callback.c). A sign-in's state is spent by the first
-- callback that names it, whatever happens next; every refusal after that
-- point is audited as sso.refused with its reason, and a sign-in that
-- works opens the same session a password login does (session.login,
-- details.method = 'sso').
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- The callback's first step: the sign-in whose state this is, spent now.
-- outcome: 'ok', or why it may not go on ('other_browser': the cookie
-- that started it is not this browser's; 'expired'; 'disabled': the org
-- turned single sign-on off meanwhile). No row: no such state (never
-- made, or already used: a replay).
CREATE OR REPLACE FUNCTION tocsin_sso_finish(p_state_hash bytea, p_browser_hash bytea)
RETURNS TABLE (org_id bigint, outcome text, nonce text, code_verifier text, issuer text,
               client_id text, client_secret text)
LANGUAGE plpgsql AS $$
DECLARE
    l sso_logins;
BEGIN
    DELETE FROM sso_logins s WHERE s.state_hash = p_state_hash RETURNING s.* INTO l;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    org_id := l.org_id;
    SELECT o.issuer, o.client_id, o.client_secret, CASE
             WHEN l.browser_hash <> p_browser_hash THEN 'other_browser'
             WHEN l.expires_at <= now() THEN 'expired'
             WHEN NOT o.enabled THEN 'disabled'
             ELSE 'ok' END
      INTO issuer, client_id, client_secret, outcome
      FROM org_sso o WHERE o.org_id = l.org_id;
    outcome := coalesce(outcome, 'disabled');
    IF outcome <> 'ok' THEN
        PERFORM tocsin_sso_refuse(l.org_id, outcome, NULL);
        issuer := NULL; client_id := NULL; client_secret := NULL;
    ELSE
        nonce := l.nonce;
        code_verifier := l.code_verifier;
    END IF;
    RETURN NEXT;
END $$;

CREATE OR REPLACE FUNCTION tocsin_sso_refuse(p_org bigint, p_reason text, p_detail text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO audit_events (org_id, action, details)
    VALUES (p_org, 'sso.refused',
            jsonb_strip_nulls(jsonb_build_object('reason', p_reason, 'detail', left(p_detail, 300))));
$$;

-- The provider vouched for p_email (verified): the org's active user with
-- that address gets a session, as a password login would make it, at the
-- stage it owes (a second factor unless the provider's amr says "mfa"). An
-- address with no user yet but a live invite of this org accepts the
-- invite (role from the invite, no password). outcome: 'ok' with the
-- session's user and CSRF token, 'no_account' or 'account_disabled'
-- (both audited).
CREATE OR REPLACE FUNCTION tocsin_sso_login(p_org bigint, p_email text, p_issuer text, p_subject text,
                                            p_token_hash bytea, p_csrf text, p_ttl_s int, p_addr text,
                                            p_user_agent text, p_multi_factor boolean, p_half_s int)
RETURNS TABLE (outcome text, user_id bigint, csrf_token text)
LANGUAGE plpgsql AS $$
DECLARE
    u users;
    inv invites;
    v_stage text;
BEGIN
    -- Never a national admin's acting account (schema 028): it shares her
    -- email but signs in nowhere, and the chapter's provider vouching for
    -- that address must not open it.
    SELECT * INTO u FROM users WHERE users.org_id = p_org AND lower(email) = lower(p_email)
                                 AND national_user_id IS NULL;
    IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(p_email)) THEN
        UPDATE invites i SET used_at = now()
         WHERE i.id = (SELECT id FROM invites
                        WHERE invites.org_id = p_org AND lower(email) = lower(p_email)
                          AND invites.user_id IS NULL AND used_at IS NULL AND expires_at > now()
                        ORDER BY id DESC LIMIT 1)
           AND i.used_at IS NULL  -- a concurrent sign-in took it first: not twice
        RETURNING i.* INTO inv;
        IF FOUND THEN
            INSERT INTO users (org_id, email, display_name, role)
            VALUES (p_org, inv.email, '', inv.role) RETURNING * INTO u;
            INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
            VALUES (p_org, u.id, 'invite.accept', 'user', u.id, jsonb_build_object('method', 'sso'));
        END IF;
    END IF;
    IF u.id IS NULL THEN
        PERFORM tocsin_sso_refuse(p_org, 'no_account', p_email);
        outcome := 'no_account';
        RETURN NEXT;
        RETURN;
    END IF;
    IF u.disabled_at IS NOT NULL THEN
        INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
        VALUES (p_org, NULL, 'sso.refused', 'user', u.id,
                jsonb_build_object('reason', 'account_disabled'));
        outcome := 'account_disabled';
        RETURN NEXT;
        RETURN;
    END IF;
    -- The stage owed, as after a password (dashboard/api_auth.c): a
    -- provider that says it checked several factors (amr "mfa") is
    -- trusted for the second; otherwise her authenticator's code, or
    -- enrolment where the org requires one for her role.
    v_stage := CASE WHEN p_multi_factor THEN 'full'
                    WHEN EXISTS (SELECT 1 FROM user_totp t
                                  WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) THEN 'code'
                    WHEN u.role IN ('admin', 'lead')
                         AND (SELECT o.require_two_factor FROM orgs o WHERE o.id = p_org) THEN 'enrol'
                    ELSE 'full' END;
    INSERT INTO sessions (org_id, user_id, token_hash, csrf_token, expires_at, remote_addr,
                          user_agent, stage)
    VALUES (p_org, u.id, p_token_hash, p_csrf,
            now() + make_interval(secs => CASE v_stage WHEN 'full' THEN p_ttl_s
                                                       ELSE least(p_ttl_s, p_half_s) END),
            p_addr, p_user_agent, v_stage);
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, u.id, CASE v_stage WHEN 'full' THEN 'session.login' ELSE 'session.sso_ok' END,
            'user', u.id,
            jsonb_build_object('method', 'sso', 'issuer', p_issuer, 'subject', left(p_subject, 255),
                               'stage', v_stage, 'provider_mfa', p_multi_factor));
    outcome := 'ok';
    user_id := u.id;
    csrf_token := p_csrf;
    RETURN NEXT;
END $$;

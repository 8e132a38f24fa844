-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 019_consent: who sends the STOP confirmation, what START restores, and
-- the language the answers to STOP, START and HELP go in (COMPLIANCE.md).
-- tocsin_receive_inbound keeps its signature (the gateway, its spool and
-- the batch functions of 007/015/016 call it unchanged); it now writes the
-- replies to reserved words itself, because only the committed state knows
-- the member's language and which lists START gave back.
--
-- Its functions, views and triggers now live, once each, in
-- schema/functions/ (see schema/README.md).

-- Who answers the opt-out words. 'carrier': the carrier answers the
-- English opt-out words itself and refuses the program's later messages to
-- that number with 21610 (Twilio's default opt-out handling on long codes
-- and toll-free numbers), so Tocsin sends no confirmation of its own for
-- them; 'program': nothing filters (a standalone short code), Tocsin sends
-- the one confirmation. NULL: the default for the sender's kind and
-- provider (tocsin_sender_opt_out_handling).
ALTER TABLE senders ADD COLUMN opt_out_handling text CHECK (opt_out_handling IN ('carrier', 'program'));

-- A member's language: the keyword they joined with, or their last
-- reserved word that has one (lib/compliance's tocsin_reserved_language:
-- STOP, START, HELP and INFO are every program's words and keep it).
ALTER TABLE contacts ADD COLUMN language text CHECK (language IN ('en', 'es'));

-- A keyword's language; when not given, read from its confirmation (a
-- Spanish confirmation names AYUDA or ALTO or the rates in Spanish).
ALTER TABLE keywords ADD COLUMN language text CHECK (language IN ('en', 'es'));

UPDATE keywords SET language = tocsin_text_language(reply) WHERE language IS NULL;
ALTER TABLE keywords ALTER COLUMN language SET NOT NULL;

-- The HELP reply in Spanish (help_text is the English one); NULL: the
-- default text below.
ALTER TABLE orgs ADD COLUMN help_text_es text CHECK (length(help_text_es) <= 1600);

-- Which opt-out ended a subscription (the opt-out's consent_events row),
-- so that START gives back exactly those lists. Subscriptions a keyword
-- STOP ended before this migration ended in its transaction, at its
-- event's time.
ALTER TABLE subscriptions ADD COLUMN ended_by_opt_out bigint REFERENCES consent_events (id) ON DELETE SET NULL;
UPDATE subscriptions s SET ended_by_opt_out = e.id
  FROM contacts c, consent_events e
 WHERE c.id = s.contact_id AND e.org_id = c.org_id AND e.phone = c.phone AND e.event = 'opt_out'
   AND e.source = 'keyword' AND e.created_at = s.unsubscribed_at
   AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = c.org_id AND o.phone = c.phone);

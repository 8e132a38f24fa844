-- SPDX-License-Identifier: AGPL-3.0-or-later
-- consent: a sender's opt-out handling, keyword languages (with their
-- trigger) and the reply to a consent keyword (STOP, START, HELP and their
-- Spanish words).
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

CREATE OR REPLACE FUNCTION tocsin_sender_opt_out_handling(p_kind text, p_provider text, p_set text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(p_set, CASE WHEN p_provider = 'twilio' AND p_kind IN ('long_code', 'toll_free')
                                THEN 'carrier' ELSE 'program' END)
$$;

CREATE OR REPLACE FUNCTION tocsin_keyword_language_default() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.language IS NULL THEN
        NEW.language := tocsin_text_language(NEW.reply);
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER keywords_language BEFORE INSERT OR UPDATE ON keywords
    FOR EACH ROW EXECUTE FUNCTION tocsin_keyword_language_default();

-- The answer to a reserved word: p_kind 'opt_out', 'opt_in' (START, with
-- the names of the lists the member is on after it, none: an empty array)
-- or 'help', in
-- p_lang. Each carries COMPLIANCE.md's parts: the program's name, how often,
-- "Msg&data rates may apply" (Spanish: "tarifas de mensajes y datos"), how
-- to get help and how to stop.
CREATE OR REPLACE FUNCTION tocsin_consent_reply(p_org bigint, p_kind text, p_lang text, p_lists text[])
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_lang = 'es' THEN CASE p_kind
            WHEN 'opt_out' THEN format('%s: te diste de baja y no recibirás más mensajes. Responde ALTA '
                                       'o START para volver.', o.name)
            WHEN 'opt_in' THEN CASE WHEN cardinality(p_lists) > 0
                THEN format('%s: vuelves a recibir nuestros mensajes de: %s. Mensajes recurrentes. Pueden aplicar '
                            'tarifas de mensajes y datos. Responde AYUDA para ayuda, ALTO para cancelar.',
                            o.name, array_to_string(p_lists, ', '))
                ELSE format('%s: puedes volver a recibir mensajes, pero no estás en ninguna lista. '
                            'Envía una palabra clave para unirte. Pueden aplicar tarifas de mensajes y '
                            'datos. Responde AYUDA para ayuda, ALTO para cancelar.', o.name) END
            ELSE coalesce(o.help_text_es,
                          format('%s: mensajes recurrentes, la frecuencia varía. Responde a este número '
                                 'para hablar con nosotros. Pueden aplicar tarifas de mensajes y datos. '
                                 'Responde ALTO para cancelar.', o.name)) END
        ELSE CASE p_kind
            WHEN 'opt_out' THEN format('%s: you are unsubscribed and will get no more messages. Reply '
                                       'START to resubscribe.', o.name)
            WHEN 'opt_in' THEN CASE WHEN cardinality(p_lists) > 0
                THEN format('%s: you are subscribed again to: %s. Recurring msgs. Msg&data rates may apply. '
                            'Reply HELP for help, STOP to cancel.', o.name, array_to_string(p_lists, ', '))
                ELSE format('%s: you can get our messages again, but you are on no list. Text a keyword '
                            'to join one. Msg&data rates may apply. Reply HELP for help, STOP to cancel.',
                            o.name) END
            ELSE coalesce(o.help_text,
                          format('%s: recurring msgs, frequency varies. Reply to this number to reach us. '
                                 'Msg&data rates may apply. Reply STOP to cancel.', o.name)) END
    END
      FROM orgs o WHERE o.id = p_org
$$;

/* SPDX-License-Identifier: AGPL-3.0-or-later
 * compliance.h — the carrier and CTIA rules of COMPLIANCE.md that are
 * plain facts about text: the reserved keywords (opt-out, opt back in,
 * help; English and Spanish) and the parts an opt-in confirmation must
 * carry. The gateway, tocsinctl and the dashboard all ask here. */
#ifndef TOCSIN_COMPLIANCE_H
#define TOCSIN_COMPLIANCE_H

#include <stddef.h>

enum tocsin_reserved {
    TOCSIN_RESERVED_NONE = 0,
    TOCSIN_RESERVED_OPT_OUT, /* STOP, STOPALL, UNSUBSCRIBE, ... ALTO, BAJA, ... */
    TOCSIN_RESERVED_OPT_IN,  /* START, YES, UNSTOP, ALTA, SI, SÍ */
    TOCSIN_RESERVED_HELP,    /* HELP, INFO, AYUDA */
};

/* NULL-terminated word lists (upper case, UTF-8). */
extern const char *const tocsin_opt_out_words[];
extern const char *const tocsin_opt_in_words[];
extern const char *const tocsin_help_words[];

/* Classifies a whole message as one reserved word, read in its folded
 * form (lib/normalize: any case or accents, surrounding spaces,
 * punctuation and emoji of either language ignored: "¡Alto!", " Stop. ",
 * "sí" and "SÍ" alike). */
enum tocsin_reserved tocsin_reserved_word(const char *word, size_t len);

/* The language of a reserved word (read as tocsin_reserved_word reads it):
 * "es" for the Spanish words (ALTO, PARAR, DETENER, BAJA, CANCELAR, ALTA,
 * SI, AYUDA), "en" for the English-only ones (UNSUBSCRIBE, CANCEL, END,
 * QUIT, REVOKE, OPTOUT, YES, UNSTOP), NULL for the carriers' universal
 * words (STOP, STOPALL, START, HELP, INFO), which Spanish programs tell
 * their members to use too, and for anything else. The carrier's own
 * opt-out handling (Twilio's default) knows the words that are not "es". */
const char *tocsin_reserved_language(const char *word, size_t len);

/* Checks an opt-in confirmation (UTF-8, at most 4095 bytes) for the CTIA
 * parts, each matched as whole words in any case, with runs of whitespace
 * read as one space and spaces around '&' and '/' ignored:
 *  - the program or organisation name: org_name;
 *  - how often messages come: "N msg(s)/mo|month|wk|week|day", "messages
 *    per month", "per/a/each month|week", "monthly", "weekly", "daily",
 *    "recurring", "(msg) frequency varies"; Spanish "msj(s)/mes", "al mes",
 *    "por mes|semana|día", "a la semana", "mensual(es)", "semanal(es)",
 *    "recurrente(s)", "frecuencia varía";
 *  - "Msg&data rates may apply": MSG, MSGS, MESSAGE or MESSAGES, then & or
 *    AND, then "data rates may apply"; Spanish "tarifas de mensajes y datos"
 *    (MENSAJE(S) or MSJ(S), Y or &);
 *  - the word HELP (or AYUDA) and the word STOP (or ALTO).
 * Returns 0, or -1 with the first missing part in err. No pointer may be
 * NULL. */
int tocsin_confirmation_check(const char *text, size_t len, const char *org_name, char *err,
                              size_t errlen);

#endif

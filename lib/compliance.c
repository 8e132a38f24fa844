/* SPDX-License-Identifier: AGPL-3.0-or-later
 * compliance.c — reserved keywords and the confirmation-content check. */
#include "compliance.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "normalize.h"

const char *const tocsin_opt_out_words[] = {"STOP",    "STOPALL", "UNSUBSCRIBE", "CANCEL", "END",
                                            "QUIT",    "REVOKE",  "OPTOUT",      "ALTO",   "PARAR",
                                            "DETENER", "BAJA",    "CANCELAR",    NULL};
const char *const tocsin_opt_in_words[] = {"START", "YES",       "UNSTOP", "ALTA",
                                           "SI",    "S\xc3\x8d", NULL};
const char *const tocsin_help_words[] = {"HELP", "INFO", "AYUDA", NULL};

/* Upper-cases ASCII and the Spanish accented vowels in place (UTF-8). */
static size_t upper_copy(const char *in, size_t len, char *out, size_t outsize)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < outsize; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c >= 'a' && c <= 'z')
            c = (unsigned char)(c - 32);
        else if (c == 0xc3 && i + 1 < len && (unsigned char)in[i + 1] >= 0xa0 &&
                 (unsigned char)in[i + 1] <= 0xbe && (unsigned char)in[i + 1] != 0xb7 &&
                 o + 2 < outsize) { /* not U+00F7 ÷, whose "upper case" would be × */
            out[o++] = (char)c;
            out[o++] = (char)((unsigned char)in[++i] - 0x20); /* á -> Á etc. */
            continue;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return o;
}

/* 1 if the folded message folded is one of list's words (folded alike;
 * an ASCII word folds to its lower case, so only the others are folded
 * here, on every call: "SÍ" is the one). */
static int in_folded_list(const char *const *list, const char *folded)
{
    for (; *list; list++) {
        const char *w = *list;
        int ascii = 1;
        for (const char *p = w; *p && ascii; p++)
            ascii = (unsigned char)*p < 0x80;
        if (ascii) {
            if (strcasecmp(w, folded) == 0)
                return 1;
            continue;
        }
        char f[64];
        tocsin_normalize_message(w, strlen(w), f, sizeof f);
        if (strcmp(f, folded) == 0)
            return 1;
    }
    return 0;
}

enum tocsin_reserved tocsin_reserved_word(const char *word, size_t len)
{
    char folded[512]; /* a longer result is cut, and is no reserved word either way */
    tocsin_normalize_message(word, len, folded, sizeof folded);
    if (in_folded_list(tocsin_opt_out_words, folded))
        return TOCSIN_RESERVED_OPT_OUT;
    if (in_folded_list(tocsin_opt_in_words, folded))
        return TOCSIN_RESERVED_OPT_IN;
    if (in_folded_list(tocsin_help_words, folded))
        return TOCSIN_RESERVED_HELP;
    return TOCSIN_RESERVED_NONE;
}

const char *tocsin_reserved_language(const char *word, size_t len)
{
    static const char *const spanish[] = {"ALTO", "PARAR", "DETENER", "BAJA", "CANCELAR",
                                          "ALTA", "SI",    "AYUDA",   NULL};
    static const char *const english[] = {"UNSUBSCRIBE", "CANCEL", "END",    "QUIT", "REVOKE",
                                          "OPTOUT",      "YES",    "UNSTOP", NULL};
    char folded[512]; /* a longer result is cut, and is no reserved word either way */
    tocsin_normalize_message(word, len, folded, sizeof folded);
    if (in_folded_list(spanish, folded))
        return "es";
    if (in_folded_list(english, folded))
        return "en";
    return NULL;
}

static int is_letter(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80;
}

/* 1 if word appears in up (already upper case) as a whole word. */
static int has_word(const char *up, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = up; (p = strstr(p, word)); p++) {
        int before = p == up || !is_letter((unsigned char)p[-1]);
        int after = !is_letter((unsigned char)p[wl]);
        if (before && after)
            return 1;
    }
    return 0;
}

/* Upper case, whitespace runs as one space, no space around '&' or '/',
 * no leading or trailing space: "Msg & data  rates" -> "MSG&DATA RATES".
 * Returns -1 if out is too small. */
static int normalize(const char *in, size_t len, char *out, size_t outsize)
{
    char up[4096];
    if (len >= sizeof up || len >= outsize)
        return -1;
    size_t n = upper_copy(in, len, up, sizeof up), o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = up[i];
        int space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (space) {
            if (o == 0 || out[o - 1] == ' ' || out[o - 1] == '&' || out[o - 1] == '/')
                continue;
            c = ' ';
        } else if ((c == '&' || c == '/') && o > 0 && out[o - 1] == ' ') {
            o--;
        }
        out[o++] = c;
    }
    if (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return 0;
}

/* 1 if any of the phrases appears in norm as whole words. */
static int has_any(const char *norm, const char *const *phrases)
{
    for (; *phrases; phrases++)
        if (has_word(norm, *phrases))
            return 1;
    return 0;
}

/* "Msg&data rates may apply" in the spellings people use: MSG, MSGS,
 * MESSAGE, MESSAGES joined to DATA by & or AND; in Spanish "tarifas de
 * mensajes y datos" (MENSAJE(S), MSJ(S); Y or &). */
static int has_rates(const char *norm)
{
    static const char *const en[] = {"MSG", "MSGS", "MESSAGE", "MESSAGES", NULL};
    static const char *const es[] = {"MENSAJES", "MENSAJE", "MSJ", "MSJS", NULL};
    static const char *const en_join[] = {"&", " AND ", NULL};
    static const char *const es_join[] = {"&", " Y ", NULL};
    char phrase[80];
    for (size_t i = 0; en[i]; i++)
        for (size_t j = 0; en_join[j]; j++) {
            snprintf(phrase, sizeof phrase, "%s%sDATA RATES MAY APPLY", en[i], en_join[j]);
            if (has_word(norm, phrase))
                return 1;
        }
    for (size_t i = 0; es[i]; i++)
        for (size_t j = 0; es_join[j]; j++) {
            snprintf(phrase, sizeof phrase, "TARIFAS DE %s%sDATOS", es[i], es_join[j]);
            if (has_word(norm, phrase))
                return 1;
        }
    return 0;
}

/* How often messages come. Matched as whole words, so "normal messages"
 * is not "al mes" and "a weekend" is not "a week". */
static const char *const frequency_phrases[] = {
    "MSG/MO", "MSGS/MO", "MSG/MONTH", "MSGS/MONTH", "MESSAGES/MONTH", "MSG/WK", "MSGS/WK",
    "MSG/WEEK", "MSGS/WEEK", "MESSAGES/WEEK", "MSG/DAY", "MSGS/DAY", "PER MONTH", "PER WEEK",
    "PER DAY", "A MONTH", "A WEEK", "EACH MONTH", "EACH WEEK", "MONTHLY", "WEEKLY", "DAILY",
    "RECURRING", "FREQUENCY VARIES", "FREQ VARIES",
    /* Spanish; upper_copy turns í into Í. */
    "MSJ/MES", "MSJS/MES", "MENSAJES/MES", "AL MES", "POR MES", "POR SEMANA", "A LA SEMANA",
    "AL D\xc3\x8d"
    "A",
    "POR D\xc3\x8d"
    "A",
    "MENSUAL", "MENSUALES", "SEMANAL", "SEMANALES", "RECURRENTE", "RECURRENTES",
    "FRECUENCIA VAR\xc3\x8d"
    "A",
    NULL};

int tocsin_confirmation_check(const char *text, size_t len, const char *org_name, char *err,
                              size_t errlen)
{
    char norm[4096], name[256];
    if (len == 0) {
        snprintf(err, errlen, "the confirmation text is empty");
        return -1;
    }
    if (normalize(text, len, norm, sizeof norm)) {
        snprintf(err, errlen, "the confirmation text is too long");
        return -1;
    }
    if (normalize(org_name, strlen(org_name), name, sizeof name) || !name[0] ||
        !has_word(norm, name)) {
        snprintf(err, errlen, "the confirmation must name the program or organisation (\"%s\")",
                 org_name);
        return -1;
    }
    if (!has_any(norm, frequency_phrases)) {
        snprintf(
            err, errlen,
            "the confirmation must say how often messages come (e.g. \"4 msgs/mo\" or \"recurring\")");
        return -1;
    }
    if (!has_rates(norm)) {
        snprintf(err, errlen, "the confirmation must say \"Msg&data rates may apply\"");
        return -1;
    }
    if (!has_word(norm, "HELP") && !has_word(norm, "AYUDA")) {
        snprintf(err, errlen,
                 "the confirmation must say how to get help (\"Reply HELP for help\")");
        return -1;
    }
    if (!has_word(norm, "STOP") && !has_word(norm, "ALTO")) {
        snprintf(err, errlen, "the confirmation must say how to stop (\"Reply STOP to cancel\")");
        return -1;
    }
    return 0;
}

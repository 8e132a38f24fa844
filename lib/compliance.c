/* SPDX-License-Identifier: AGPL-3.0-or-later
 * compliance.c — reserved keywords and the confirmation-content check. */
#include "compliance.h"

#include <stdio.h>
#include <string.h>

const char *const tocsin_opt_out_words[] = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END",
                                            "QUIT", "REVOKE", "OPTOUT", "ALTO", "PARAR",
                                            "DETENER", "BAJA", "CANCELAR", NULL};
const char *const tocsin_opt_in_words[] = {"START", "YES", "UNSTOP", "ALTA", "SI", "S\xc3\x8d", NULL};
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
                 (unsigned char)in[i + 1] <= 0xbe && o + 2 < outsize) {
            out[o++] = (char)c;
            out[o++] = (char)((unsigned char)in[++i] - 0x20); /* á -> Á etc. */
            continue;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return o;
}

static int in_list(const char *const *list, const char *w)
{
    for (; *list; list++)
        if (strcmp(*list, w) == 0)
            return 1;
    return 0;
}

enum tocsin_reserved tocsin_reserved_word(const char *word, size_t len)
{
    char up[64];
    if (len >= sizeof up)
        return TOCSIN_RESERVED_NONE;
    upper_copy(word, len, up, sizeof up);
    if (in_list(tocsin_opt_out_words, up))
        return TOCSIN_RESERVED_OPT_OUT;
    if (in_list(tocsin_opt_in_words, up))
        return TOCSIN_RESERVED_OPT_IN;
    if (in_list(tocsin_help_words, up))
        return TOCSIN_RESERVED_HELP;
    return TOCSIN_RESERVED_NONE;
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

static int has_any(const char *hay, const char *const *needles)
{
    for (; *needles; needles++)
        if (strstr(hay, *needles))
            return 1;
    return 0;
}

int tocsin_confirmation_check(const char *text, size_t len, const char *org_name, char *err,
                              size_t errlen)
{
    char up[4096], squeezed[4096], name[256];
    if (len == 0) {
        snprintf(err, errlen, "the confirmation text is empty");
        return -1;
    }
    if (len >= sizeof up) {
        snprintf(err, errlen, "the confirmation text is too long");
        return -1;
    }
    upper_copy(text, len, up, sizeof up);
    /* Without spaces, so "Msg & data" and "Msg&data" read the same. */
    size_t s = 0;
    for (size_t i = 0; up[i]; i++)
        if (up[i] != ' ' && up[i] != '\t' && up[i] != '\n')
            squeezed[s++] = up[i];
    squeezed[s] = '\0';
    upper_copy(org_name, strlen(org_name), name, sizeof name);
    static const char *const frequency[] = {"MSG/MO", "MSGS/MO", "MSG/WK", "MSGS/WK", "MSGS/WEEK",
                                            "MSGS/MONTH", "MESSAGES/MONTH", "MESSAGES/WEEK",
                                            "MSGSPERMONTH", "MESSAGESPERMONTH", "MESSAGESPERWEEK",
                                            "PERMONTH", "PERWEEK", "AMONTH", "AWEEK", "RECURRING",
                                            "MSJS/MES", "MENSAJESALMES", "MENSAJESPORMES",
                                            "MENSAJESPORSEMANA", "ALMES", "RECURRENTES", NULL};
    static const char *const rates[] = {"MSG&DATARATESMAYAPPLY", "MSGANDDATARATESMAYAPPLY",
                                        "MESSAGE&DATARATESMAYAPPLY", "MESSAGEANDDATARATESMAYAPPLY",
                                        "MESSAGESANDDATARATESMAYAPPLY", "TARIFASDEMENSAJESYDATOS",
                                        "TARIFASDEMSJYDATOS", "TARIFASDEMENSAJEYDATOS", NULL};
    if (!name[0] || !strstr(up, name)) {
        snprintf(err, errlen, "the confirmation must name the program or organisation (\"%s\")", org_name);
        return -1;
    }
    if (!has_any(squeezed, frequency)) {
        snprintf(err, errlen, "the confirmation must say how often messages come (e.g. \"4 msgs/mo\" or \"recurring\")");
        return -1;
    }
    if (!has_any(squeezed, rates)) {
        snprintf(err, errlen, "the confirmation must say \"Msg&data rates may apply\"");
        return -1;
    }
    if (!has_word(up, "HELP") && !has_word(up, "AYUDA")) {
        snprintf(err, errlen, "the confirmation must say how to get help (\"Reply HELP for help\")");
        return -1;
    }
    if (!has_word(up, "STOP") && !has_word(up, "ALTO")) {
        snprintf(err, errlen, "the confirmation must say how to stop (\"Reply STOP to cancel\")");
        return -1;
    }
    return 0;
}

/* SPDX-License-Identifier: AGPL-3.0-or-later
 * segments.c — `tocsinctl segments [TEXT]`: what a message will cost
 * before a blast, counted by lib/sms exactly as the worker counts it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "sms.h"
#include "tocsinctl.h"

#define SEGMENTS_MAX_INPUT 65536

int tocsinctl_segments(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *pos[1];
    int np;
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.pos = pos, .maxpos = 1, .npos = &np});
    if (go != CTL_GO)
        return go;
    static char buf[SEGMENTS_MAX_INPUT + 1];
    const char *text;
    size_t len;
    if (np == 1) {
        text = pos[0];
        len = strlen(text);
    } else {
        len = fread(buf, 1, sizeof buf, stdin);
        if (len > SEGMENTS_MAX_INPUT) {
            fprintf(stderr, "tocsinctl segments: input longer than %d bytes\n", SEGMENTS_MAX_INPUT);
            return TOCSINCTL_FAIL;
        }
        if (len && buf[len - 1] == '\n')
            len--;
        if (len && buf[len - 1] == '\r')
            len--;
        text = buf;
    }
    struct tocsin_sms_info info;
    if (tocsin_sms_count(text, len, &info)) {
        fprintf(stderr, "tocsinctl segments: the text is not valid UTF-8\n");
        return TOCSINCTL_FAIL;
    }
    printf("encoding=%s segments=%zu units=%zu\n", tocsin_sms_encoding_name(info.encoding),
           info.segments, info.units);
    if (info.chars > 1600)
        fprintf(stderr,
                "tocsinctl segments: warning: %zu characters; carriers accept at most 1600\n",
                info.chars);
    return TOCSINCTL_OK;
}

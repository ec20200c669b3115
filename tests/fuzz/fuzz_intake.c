/* libFuzzer target for the collector's checks of an upload (bureau/collector/intake.c):
 * the first byte picks the kind and whether the key is the document's own, the rest
 * is the body. Any bytes must give a document or a refusal with a 4xx status and a
 * JSON answer, never a crash, a hang or a leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *key_for(const json_t *root, enum doc_kind kind, char *buf, size_t n)
{
    const char *id = json_string_value(json_object_get(root, "notice_id"));
    if (kind == DOC_NOTICE)
        return id ? id : "T001/referral/1";
    const char *date = json_string_value(json_object_get(root, "date"));
    snprintf(buf, n, "T001/%s/%lld", date ? date : "x",
             (long long)json_integer_value(json_object_get(root, "revision")));
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct intake *in; /* the schemas, loaded once like the collector does */
    if (!in && !(in = intake_new(stderr)))
        __builtin_trap();
    if (size < 1)
        return 0;
    enum doc_kind kind = data[0] & 1 ? DOC_NOTICE : DOC_SUMMARY;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char buf[128];
    json_t *peek = json_loadb(body, len, 0, NULL); /* a key that gets past the key check */
    const char *key = data[0] & 2 ? "T002/x" : key_for(peek, kind, buf, sizeof buf);
    struct intake_doc d;
    struct intake_verdict v = {0};
    int rc = intake_document(in, "T001", kind, key, body, len, &d, &v);
    if ((rc == 0) != (v.status == 0) || (rc < 0 && (v.status < 400 || v.status > 499)))
        __builtin_trap(); /* the interface's promise */
    char *answer = rc < 0 ? intake_verdict_json(&v) : NULL;
    if (rc < 0 && !answer)
        __builtin_trap();
    free(answer);
    intake_doc_free(&d);
    json_decref(peek);
    return 0;
}

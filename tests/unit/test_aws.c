/* net/aws.c: base64 against RFC 4648's vectors and round trips of every length, strict decoding;
 * credentials from the environment, from the shared credentials file by profile (AWS_PROFILE,
 * the config's profile), and the errors naming what is missing; region and endpoint resolution;
 * the classes of Kinesis error codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "net/aws.h"
#include "rcfd/status.h"

static void test_base64(void **state)
{
    (void)state;
    static const char *const vec[][2] = {{"", ""},
                                         {"f", "Zg=="},
                                         {"fo", "Zm8="},
                                         {"foo", "Zm9v"},
                                         {"foob", "Zm9vYg=="},
                                         {"fooba", "Zm9vYmE="},
                                         {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        rcfd_buf_t b = {0}, d = {0};
        assert_int_equal(rcfd_base64_encode(&b, vec[i][0], strlen(vec[i][0])), 0);
        assert_string_equal(b.len ? b.p : "", vec[i][1]);
        assert_int_equal(rcfd_base64_decode(&d, vec[i][1], strlen(vec[i][1])), 0);
        assert_int_equal(d.len, strlen(vec[i][0]));
        assert_memory_equal(d.len ? d.p : "", vec[i][0], d.len);
        rcfd_buf_free(&b);
        rcfd_buf_free(&d);
    }
    unsigned char raw[300];
    for (size_t i = 0; i < sizeof raw; i++) {
        raw[i] = (unsigned char)(i * 151 + 7);
    }
    for (size_t n = 0; n <= sizeof raw; n++) {
        rcfd_buf_t b = {0}, d = {0};
        assert_int_equal(rcfd_base64_encode(&b, raw, n), 0);
        assert_int_equal(b.len, (n + 2) / 3 * 4);
        assert_int_equal(rcfd_base64_decode(&d, b.p ? b.p : "", b.len), 0);
        assert_int_equal(d.len, n);
        assert_memory_equal(d.len ? d.p : "", raw, n);
        rcfd_buf_free(&b);
        rcfd_buf_free(&d);
    }
    static const char *const bad[] = {"Zg", "Zg=", "Z===", "Zm9v!A==", "=Zm9", "Zg==Zg==", "Zm 9v"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rcfd_buf_t d = {0};
        if (rcfd_base64_decode(&d, bad[i], strlen(bad[i])) != RCFD_EMALFORMED) {
            fail_msg("\"%s\" decoded", bad[i]);
        }
        rcfd_buf_free(&d);
    }
}

static void clear_env(void)
{
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

static void test_credentials(void **state)
{
    (void)state;
    clear_env();
    rcfd_aws_t a;
    char err[512];
    assert_int_equal(rcfd_aws_init(&a, "kinesis", "", "", "", err, sizeof err), RCFD_ECONFIG);
    assert_non_null(strstr(err, "no AWS region"));
    setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SECRET", 1);
    assert_int_equal(rcfd_aws_init(&a, "kinesis", "", "", "", err, sizeof err), 0);
    assert_string_equal(a.region, "eu-west-1");
    assert_string_equal(a.endpoint, "https://kinesis.eu-west-1.amazonaws.com");
    assert_string_equal(a.userpwd, "AKID:SECRET");
    assert_null(a.token);
    assert_string_equal(a.sigv4, "aws:amz:eu-west-1:kinesis");
    assert_string_equal(a.creds_from, "the environment");
    rcfd_aws_free(&a);
    setenv("AWS_REGION", "us-east-2", 1); /* AWS_REGION before AWS_DEFAULT_REGION */
    setenv("AWS_SESSION_TOKEN", "TOK", 1);
    assert_int_equal(
        rcfd_aws_init(&a, "kinesis", "", "http://127.0.0.1:4567//", "", err, sizeof err), 0);
    assert_string_equal(a.region, "us-east-2");
    assert_string_equal(a.endpoint, "http://127.0.0.1:4567");
    assert_string_equal(a.token, "X-Amz-Security-Token: TOK");
    rcfd_aws_free(&a);
    assert_int_equal(rcfd_aws_init(&a, "kinesis", "us east", "", "", err, sizeof err),
                     RCFD_ECONFIG);
    assert_non_null(strstr(err, "\"us east\" is not a region name"));
    assert_int_equal(rcfd_aws_init(&a, "kinesis", "", "ftp://x", "", err, sizeof err),
                     RCFD_ECONFIG);
    assert_non_null(strstr(err, "must start with http:// or https://"));

    /* the shared credentials file */
    clear_env();
    char path[] = "/tmp/rcfd-aws-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f,
            "# comment\n[default]\naws_access_key_id = DEFKEY\naws_secret_access_key=DEFSECRET\n\n"
            "[ops]\n  aws_access_key_id\t=  OPSKEY  \r\n; another comment\naws_secret_access_key = "
            "OPSSECRET\naws_session_token = OPSTOKEN\nregion = ignored\n[half]\naws_access_key_id "
            "= X\n");
    fclose(f);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    assert_int_equal(rcfd_aws_init(&a, "kinesis", "us-east-1", "", "", err, sizeof err), 0);
    assert_string_equal(a.userpwd, "DEFKEY:DEFSECRET");
    rcfd_aws_free(&a);
    setenv("AWS_PROFILE", "ops", 1);
    assert_int_equal(rcfd_aws_init(&a, "kinesis", "us-east-1", "", "", err, sizeof err), 0);
    assert_string_equal(a.userpwd, "OPSKEY:OPSSECRET");
    assert_string_equal(a.token, "X-Amz-Security-Token: OPSTOKEN");
    assert_non_null(strstr(a.creds_from, "[ops]"));
    rcfd_aws_free(&a);
    /* the config's profile wins over AWS_PROFILE */
    assert_int_equal(rcfd_aws_init(&a, "kinesis", "us-east-1", "", "default", err, sizeof err), 0);
    assert_string_equal(a.userpwd, "DEFKEY:DEFSECRET");
    rcfd_aws_free(&a);
    assert_int_equal(rcfd_aws_init(&a, "kinesis", "us-east-1", "", "half", err, sizeof err),
                     RCFD_ECONFIG);
    assert_non_null(strstr(err, "profile [half] of"));
    assert_non_null(strstr(err, "lacks aws_access_key_id or aws_secret_access_key"));
    assert_int_equal(rcfd_aws_init(&a, "kinesis", "us-east-1", "", "nope", err, sizeof err),
                     RCFD_ECONFIG);
    assert_non_null(strstr(err, "has no profile [nope]"));
    /* environment keys win over the file */
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
    assert_int_equal(rcfd_aws_init(&a, "kinesis", "us-east-1", "", "ops", err, sizeof err), 0);
    assert_string_equal(a.userpwd, "ENVKEY:ENVSECRET");
    rcfd_aws_free(&a);
    unlink(path);
    clear_env();
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1); /* gone now */
    assert_int_equal(rcfd_aws_init(&a, "kinesis", "us-east-1", "", "", err, sizeof err),
                     RCFD_ECONFIG);
    assert_non_null(
        strstr(err, "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"));
    clear_env();
}

static void test_classes(void **state)
{
    (void)state;
    assert_int_equal(rcfd_aws_class_of("ProvisionedThroughputExceededException"),
                     RCFD_AWS_THROTTLED);
    assert_int_equal(rcfd_aws_class_of("LimitExceededException"), RCFD_AWS_THROTTLED);
    assert_int_equal(rcfd_aws_class_of("KMSThrottlingException"), RCFD_AWS_THROTTLED);
    assert_int_equal(rcfd_aws_class_of("InternalFailure"), RCFD_AWS_RETRY);
    assert_int_equal(rcfd_aws_class_of("ExpiredIteratorException"), RCFD_AWS_RETRY);
    assert_int_equal(rcfd_aws_class_of("UnrecognizedClientException"), RCFD_AWS_RETRY);
    assert_int_equal(rcfd_aws_class_of("AccessDeniedException"), RCFD_AWS_RETRY);
    assert_int_equal(rcfd_aws_class_of("ResourceNotFoundException"), RCFD_AWS_PERMANENT);
    assert_int_equal(rcfd_aws_class_of("KMSAccessDeniedException"), RCFD_AWS_PERMANENT);
    assert_int_equal(rcfd_aws_class_of("ValidationException"), RCFD_AWS_PERMANENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

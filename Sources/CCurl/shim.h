#ifndef DINOPROBE_CCURL_SHIM_H
#define DINOPROBE_CCURL_SHIM_H

// libcurl's easy interface for Hub's HTTPTransfer. curl_easy_setopt and curl_easy_getinfo are
// variadic, which Swift cannot call: one typed wrapper per kind of argument.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

static inline CURLcode dp_curl_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

static inline CURLcode dp_curl_set_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode dp_curl_set_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode dp_curl_set_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode dp_curl_set_list(CURL *curl, CURLoption option, struct curl_slist *list) {
    return curl_easy_setopt(curl, option, list);
}

/// CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION (both take a curl_write_callback).
static inline CURLcode dp_curl_set_callback(CURL *curl, CURLoption option, curl_write_callback callback) {
    return curl_easy_setopt(curl, option, callback);
}

/// CURLOPT_XFERINFOFUNCTION.
static inline CURLcode dp_curl_set_progress(CURL *curl, curl_xferinfo_callback callback) {
    return curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, callback);
}

#endif

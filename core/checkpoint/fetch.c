/* Checkpoint URLs: downloaded once with libcurl into a cache folder, as
 * torch.hub's load_state_dict_from_url does, through a temporary file that
 * is renamed only when the transfer is complete, within the size limit and
 * readable as a checkpoint: a cache entry is always a usable file. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include <weightinit/checkpoint.h>

#include "write/atomic_file.h"

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* $WEIGHTINIT_CACHE, else $XDG_CACHE_HOME/weightinit/checkpoints, else
 * ~/.cache/weightinit/checkpoints (created). */
static char *cache_dir(wi_error_t *err)
{
    const char *env = getenv("WEIGHTINIT_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char buf[4096];
    if (env && *env)
        snprintf(buf, sizeof buf, "%s", env);
    else if (xdg && *xdg)
        snprintf(buf, sizeof buf, "%s/weightinit/checkpoints", xdg);
    else if (home && *home)
        snprintf(buf, sizeof buf, "%s/.cache/weightinit/checkpoints", home);
    else {
        wi_error_set(err, WI_EIO, NULL, NULL, "no cache folder: set "
                     "WEIGHTINIT_CACHE, XDG_CACHE_HOME or HOME");
        return NULL;
    }
    if (mkdirs(buf) != 0) {
        wi_error_set(err, WI_EIO, buf, NULL, "cannot create the cache folder: %s",
                     strerror(errno));
        return NULL;
    }
    return strdup(buf);
}

/* torch.hub's file name, os.path.basename(urlparse(url).path): the last
 * path component, without query or fragment.  Bytes that could surprise
 * a shell or a file system become '_'. */
static int url_file_name(const char *url, char *out, size_t size)
{
    const char *start = strstr(url, "://");
    start = start ? start + 3 : url;
    size_t end = strcspn(start, "?#");
    const char *slash = NULL;
    for (const char *p = start; p < start + end; p++)
        if (*p == '/')
            slash = p;
    if (!slash || slash + 1 >= start + end)
        return -1;
    size_t n = (size_t)(start + end - slash - 1);
    if (n >= size)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)slash[1 + i];
        int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || (c && strchr("._-+", c));
        out[i] = keep ? (char)c : '_'; /* ASCII whatever the locale */
    }
    out[n] = '\0';
    return strcmp(out, ".") == 0 || strcmp(out, "..") == 0 ? -1 : 0;
}

/* The cache entry's name: 64-bit FNV-1a of the URL (the fragment is never
 * sent, so it does not count) in hex, then the file name. */
static void cache_name(const char *url, const char *file, char *out,
                       size_t size)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const char *p = url; *p && *p != '#'; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3u;
    snprintf(out, size, "%016" PRIx64 "-%s", h, file);
}

#define DEFAULT_MAX_DOWNLOAD ((uint64_t)64 << 30)

/* $WEIGHTINIT_MAX_DOWNLOAD: bytes, with an optional K, M, G or T (powers
 * of 1024); 64G when unset. */
static int max_download(const char *url, uint64_t *max, wi_error_t *err)
{
    const char *s = getenv("WEIGHTINIT_MAX_DOWNLOAD");
    *max = DEFAULT_MAX_DOWNLOAD;
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = isdigit((unsigned char)s[0]) ? strtoull(s, &end, 10) : 0;
    int shift = 0;
    const char *units = "KMGT", *u;
    if (isdigit((unsigned char)s[0]) && !errno && *end && !end[1] &&
        (u = strchr(units, toupper((unsigned char)*end))))
        shift = 10 * (int)(u - units + 1), end++;
    if (!isdigit((unsigned char)s[0]) || errno || *end || v == 0 ||
        (shift && v > (UINT64_MAX >> shift)))
        return wi_error_set(err, WI_EINVAL, url, NULL,
                            "WEIGHTINIT_MAX_DOWNLOAD: expected a positive "
                            "number of bytes (suffixes "
                            "K, M, G, T allowed), got '%.40s'", s);
    *max = (uint64_t)v << shift;
    return 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static int on_progress(void *ud, curl_off_t total, curl_off_t now,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    (void)ultotal;
    (void)ulnow;
    wi_context_progress(ud, (uint64_t)now, (uint64_t)total);
    return 0;
}

/* The body into the temporary file, counted against the limit. */
struct sink {
    FILE *fp;
    uint64_t n, max;
    int too_large, write_errno;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct sink *k = ud;
    size_t len = size * nmemb;
    if (len > k->max - k->n) {
        k->too_large = 1;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    errno = 0;
    if (len && fwrite(data, 1, len, k->fp) != len) {
        k->write_errno = errno ? errno : EIO;
        return 0;
    }
    k->n += len;
    return len;
}

static int download(const char *url, struct sink *k, char *type,
                    size_t type_size, wi_context_t *ctx, wi_error_t *err)
{
    pthread_once(&curl_once, curl_init);
    CURL *curl = curl_easy_init();
    if (!curl)
        return wi_error_set(err, WI_ENOMEM, url, NULL, "cannot start libcurl");
    char why[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, k);
    /* Refuses a too large Content-Length before the body starts. */
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)(k->max > INT64_MAX ? INT64_MAX : k->max));
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, why);
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
    /* A stalled transfer (under 1 byte/s for a minute) is an error. */
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, ctx);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    const char *ctype = NULL;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ctype);
    snprintf(type, type_size, "%s", ctype ? ctype : "");
    curl_easy_cleanup(curl);
    if (rc == CURLE_OK)
        return 0;
    if (k->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return wi_error_set(err, WI_EIO, url, NULL, "download failed: the "
                            "body is larger than the limit of %" PRIu64
                            " bytes (set WEIGHTINIT_MAX_DOWNLOAD to allow "
                            "more)", k->max);
    if (k->write_errno)
        return wi_error_set(err, WI_EIO, url, NULL, "download failed: cannot "
                            "write to the cache folder: %s",
                            strerror(k->write_errno));
    if (rc == CURLE_HTTP_RETURNED_ERROR)
        return wi_error_set(err, WI_EIO, url, NULL, "download failed: HTTP %ld",
                            status);
    /* CURLE_PARTIAL_FILE: fewer bytes than the Content-Length. */
    return wi_error_set(err, WI_EIO, url, NULL, "download failed: %s%s",
                        why[0] ? why : curl_easy_strerror(rc),
                        rc == CURLE_PARTIAL_FILE ? " (truncated transfer)" : "");
}

/* The finished temporary file must be a checkpoint we can read: an HTML
 * login page sent with 200 never becomes a cache entry. */
static int validate(const char *url, const char *tmp, const char *type,
                    wi_error_t *err)
{
    wi_error_t why;
    wi_state_dict_t *sd = wi_checkpoint_load(tmp, &why);
    if (sd) {
        wi_state_dict_free(sd);
        return 0;
    }
    if (why.code == WI_ENOMEM)
        return wi_error_set(err, WI_ENOMEM, url, NULL, "%s", why.text);
    if (strncmp(type, "text/html", 9) == 0 || strstr(why.text, "HTML"))
        return wi_error_set(err, WI_EIO, url, NULL, "download failed: the "
                            "server sent an HTML page, not a checkpoint (a "
                            "login or error page?)");
    return wi_error_set(err, WI_EIO, url, NULL, "download failed: the server "
                        "sent a file that is not a readable checkpoint: %s",
                        why.text);
}

/* Downloads url to path through a temporary file, committed only when
 * the transfer and the file are good. */
static int fetch_to(const char *url, const char *path, wi_context_t *ctx,
                    wi_error_t *err)
{
    struct sink k = {0};
    char type[128];
    int rc = max_download(url, &k.max, err);
    if (rc < 0)
        return rc;
    wi_priv_atomic_t f;
    if ((rc = wi_priv_atomic_open(&f, path, err)) < 0)
        return rc;
    k.fp = f.fp;
    rc = download(url, &k, type, sizeof type, ctx, err);
    if (rc == 0 && fflush(f.fp) != 0)
        rc = wi_error_set(err, WI_EIO, url, NULL, "download failed: cannot "
                          "write to the cache folder: %s", strerror(errno));
    if (rc == 0)
        rc = validate(url, wi_priv_atomic_temp(&f), type, err);
    if (rc < 0) {
        wi_priv_atomic_abort(&f);
        return rc;
    }
    return wi_priv_atomic_commit(&f, err);
}

char *wi_checkpoint_fetch(const char *url, wi_context_t *ctx, wi_error_t *err)
{
    char file[512], name[600];
    if (!url || url_file_name(url, file, sizeof file) < 0) {
        wi_error_set(err, WI_EINVAL, url, NULL, "the URL does not end in a file "
                     "name to cache it under");
        return NULL;
    }
    cache_name(url, file, name, sizeof name);
    char *dir = cache_dir(err);
    if (!dir)
        return NULL;
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/%s", dir, name);
    free(dir);
    if (!path) {
        wi_error_set(err, WI_ENOMEM, url, NULL, "out of memory");
        return NULL;
    }
    if (access(path, F_OK) == 0) { /* cached: no request, as torch.hub */
        wi_context_log(ctx, WI_LOG_DEBUG, "using cached %s", path);
        return path;
    }
    wi_context_log(ctx, WI_LOG_INFO, "Downloading: \"%s\" to %s", url, path);
    if (fetch_to(url, path, ctx, err) < 0) {
        free(path);
        return NULL;
    }
    return path;
}

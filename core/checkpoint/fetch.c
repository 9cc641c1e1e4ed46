/* Checkpoint URLs: downloaded once with libcurl into a cache folder, as
 * torch.hub's load_state_dict_from_url does, through a temporary file that
 * is renamed only when the transfer is complete. */
#include <errno.h>
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

/* The last path component of the URL, without query or fragment. */
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
    if (n >= size || memchr(slash + 1, '\0', n))
        return -1;
    memcpy(out, slash + 1, n);
    out[n] = '\0';
    return strcmp(out, ".") == 0 || strcmp(out, "..") == 0 ? -1 : 0;
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

static int download(const char *url, FILE *fp, wi_context_t *ctx, wi_error_t *err)
{
    pthread_once(&curl_once, curl_init);
    CURL *curl = curl_easy_init();
    if (!curl)
        return wi_error_set(err, WI_ENOMEM, url, NULL, "cannot start libcurl");
    char why[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, fp);
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
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc == CURLE_OK)
        return 0;
    if (rc == CURLE_HTTP_RETURNED_ERROR)
        return wi_error_set(err, WI_EIO, url, NULL, "download failed: HTTP %ld",
                            status);
    return wi_error_set(err, WI_EIO, url, NULL, "download failed: %s",
                        why[0] ? why : curl_easy_strerror(rc));
}

char *wi_checkpoint_fetch(const char *url, wi_context_t *ctx, wi_error_t *err)
{
    char name[1024];
    if (url_file_name(url, name, sizeof name) < 0) {
        wi_error_set(err, WI_EINVAL, url, NULL, "the URL does not end in a file "
                     "name to cache it under");
        return NULL;
    }
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
    if (access(path, R_OK) == 0) { /* cached: no request, as torch.hub */
        wi_context_log(ctx, WI_LOG_DEBUG, "using cached %s", path);
        return path;
    }
    wi_context_log(ctx, WI_LOG_INFO, "Downloading: \"%s\" to %s", url, path);
    wi_priv_atomic_t f;
    int rc = wi_priv_atomic_open(&f, path, err);
    if (rc == 0 && (rc = download(url, f.fp, ctx, err)) < 0)
        wi_priv_atomic_abort(&f);
    else if (rc == 0)
        rc = wi_priv_atomic_commit(&f, err);
    if (rc < 0) {
        free(path);
        return NULL;
    }
    return path;
}

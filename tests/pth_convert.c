/* tests/data/pth_write/check_with_torch.py's helper: reads a checkpoint
 * with weightinit's readers and writes it with wi_pth_write, so torch can
 * load what weightinit wrote.  Usage: pth_convert IN OUT.pth [--tie A B]
 * (--tie makes tensor B share A's storage, as tied weights do). */
#include <stdio.h>
#include <string.h>

#include <weightinit/weightinit.h>

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 6) {
        fprintf(stderr, "usage: pth_convert IN OUT.pth [--tie A B]\n");
        return 2;
    }
    wi_error_t err;
    char line[1200];
    wi_state_dict_t *sd = wi_checkpoint_load(argv[1], &err), *out = NULL;
    if (sd && argc == 6) {
        /* B borrows A's tensor: one data pointer, one storage. */
        out = wi_state_dict_new();
        for (size_t i = 0; out && i < wi_state_dict_size(sd); i++) {
            const char *n = wi_state_dict_name(sd, i);
            wi_tensor_t *t = wi_state_dict_tensor(sd, i);
            if (strcmp(n, argv[5]) == 0)
                t = wi_state_dict_find(sd, argv[4]);
            if (!t || wi_state_dict_append(out, n, t, &err) < 0) {
                fprintf(stderr, "pth_convert: cannot tie %s to %s\n", argv[5], argv[4]);
                return 1;
            }
        }
    }
    FILE *fp = sd ? fopen(argv[2], "wb") : NULL;
    int rc = fp ? wi_pth_write(fp, argv[2], out ? out : sd, &err) : -1;
    if (fp && fclose(fp) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "pth_convert: %s\n", wi_error_format(&err, line, sizeof line));
    wi_state_dict_free(out);
    wi_state_dict_free(sd);
    return rc < 0 ? 1 : 0;
}

/* Interim weak definitions while the media layer is written; removed before commit. */
#include <errno.h>
#include "media/media.h"
__attribute__((weak)) int media_init(const struct media_cfg *cfg) { (void)cfg; return 0; }
__attribute__((weak)) void media_close(void) {}
__attribute__((weak)) int media_stream_link(struct media_stream *a, struct media_stream *b) { (void)a; (void)b; return ENOSYS; }
__attribute__((weak)) void media_stream_unlink(struct media_stream *ms) { (void)ms; }

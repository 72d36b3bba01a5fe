/* vigil_bands: H.264 pictures reduced to analysis luma (and measured on the block grid) band by band, as the
 * single-threaded decoder finishes their rows, while those rows are still in cache. */
#include "vigil_internal.h"

/* Analysis rows written so far for a picture whose source rows [0, source_rows) are final. */
static int box_rows_ready(int source_rows, int f, int all_rows, int oh) {
    int first = all_rows ? 0 : (f - 1) / 2, rows = all_rows ? f : 1; /* as box_band reads them */
    if (source_rows < first + rows) return 0;
    return FFMIN(oh, (source_rows - first - rows) / f + 1);
}

/* The decoder's draw_horiz_band: rows [y, y + height) of `picture` are final (deblocked), in coded
 * order. Reducing them now, while they are in this core's cache, costs a fraction of reading the
 * whole picture back after decoding (at 1080p most of it has left the L2 cache by then). Bands must
 * arrive top to bottom without a gap; anything else (a lost slice, a field picture's first field)
 * marks the picture broken, and video_item reduces the finished picture as before. So do pictures
 * with decode errors: error concealment rewrites them after their bands were delivered. */
void on_band(AVCodecContext *c, const AVFrame *picture, int offset[AV_NUM_DATA_POINTERS], int y, int type, int height) {
    (void)offset, (void)type; /* rows are read through picture->data; a field picture breaks the top-to-bottom order below */
    vg_ctx *ctx = c->opaque;
    int w = c->width, h = c->height, f = analysis_factor(w, ctx->analysis_max_width);
    if (f == 1 || !plain_luma(c->pix_fmt) || !picture->data[0] || w <= 0 || h <= 0) return;
    band_picture *slot = NULL, *free_slot = NULL;
    for (int i = 0; i < BAND_PICTURES; i++) {
        if (ctx->bands[i].buffer == picture->data[0]) { slot = &ctx->bands[i]; break; }
        if (!ctx->bands[i].buffer && !free_slot) free_slot = &ctx->bands[i];
    }
    if (y == 0 && !slot) {
        /* pictures the decoder never outputs leave their slot taken: reclaim the oldest claim */
        slot = free_slot ? free_slot : &ctx->bands[ctx->band_evict++ % BAND_PICTURES];
    }
    if (!slot) return; /* no band from the top: leave it to video_item */
    if (y == 0) {
        int ow = w / f, oh = h / f;
        if (slot->luma_capacity < ow * oh) {
            av_freep(&slot->luma);
            slot->luma = av_malloc((size_t)ow * oh);
            slot->luma_capacity = slot->luma ? ow * oh : 0;
        }
        if (!slot->luma || box_prepare(ctx, w, h, f) < 0 ||
            (ctx->want_grid_stats && grid_begin(&slot->grid, picture->data[0], picture->linesize[0], w, h,
                                                &slot->grid_scratch, &slot->grid_stats) < 0)) {
            slot->buffer = NULL;
            return;
        }
        slot->buffer = picture->data[0];
        slot->width = w;
        slot->height = h;
        slot->source_rows = slot->rows_out = slot->broken = slot->grid_rows_done = 0;
    }
    if (slot->broken || slot->width != w || slot->height != h) { slot->broken = 1; return; }
    if (y > slot->source_rows) { slot->broken = 1; return; }
    slot->source_rows = FFMAX(slot->source_rows, FFMIN(y + height, h));
    int all_rows = ctx->want_grid_stats, oh = h / f;
    int ready = box_rows_ready(slot->source_rows, f, all_rows, oh);
    if (ready > slot->rows_out) {
        uint8_t *luma = ctx->luma;
        ctx->luma = slot->luma; /* box_rows writes into ctx->luma */
        box_rows(ctx, picture->data[0], picture->linesize[0], w, f, all_rows, slot->rows_out, ready);
        ctx->luma = luma;
        slot->rows_out = ready;
    }
    if (ctx->want_grid_stats) {
        /* block row b reads source rows [8b - 2, 8b + 8) */
        int blocks_ready = FFMIN(slot->source_rows / VG_BLOCK, slot->grid.brows);
        if (blocks_ready > slot->grid_rows_done) {
            grid_rows(&slot->grid, slot->grid_rows_done, blocks_ready);
            slot->grid_rows_done = blocks_ready;
        }
    }
}

/* The picture's slot if all its bands were reduced (and measured) as they were decoded; frees the slot,
 * whose luma and grid statistics stay valid until the decoder runs again. */
const band_picture *take_band_picture(vg_ctx *ctx, const AVFrame *frame, int f) {
    for (int i = 0; i < BAND_PICTURES; i++) {
        band_picture *slot = &ctx->bands[i];
        if (slot->buffer != frame->data[0]) continue;
        slot->buffer = NULL;
        int complete = !slot->broken && slot->width == frame->width && slot->height == frame->height &&
                       slot->rows_out == frame->height / f && frame->decode_error_flags == 0 &&
                       !(frame->flags & AV_FRAME_FLAG_CORRUPT) &&
                       (!ctx->want_grid_stats || slot->grid_rows_done == slot->grid.brows);
        return complete ? slot : NULL;
    }
    return NULL;
}

int64_t vg_band_reduced_pictures(vg_ctx *ctx) { return ctx ? ctx->band_reduced : 0; }

/* vigil_audio: a decoded audio frame to planar float PCM, copied when the decoder already gives planar float
 * (AAC, Opus, ...), else converted by libswresample at the same rate (rebuilt when the input format changes). */
#include "vigil_internal.h"

#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <string.h>

/* Each channel's role (AVChannel) in the frame's layout. An unlabelled layout (AV_CHANNEL_ORDER_UNSPEC: only a
 * count, e.g. WAV without a channel mask, PCM in Matroska) is read as FFmpeg's default layout where that default
 * is the convention every tool follows: mono, stereo, and 6 to 8 channels (5.1, 6.1, 7.1, the LFE fourth). For 3
 * to 5 channels the default (2.1, 4.0, 5.0) is one guess among several (3.0, quad, 4.1): the roles stay unknown
 * (AV_CHAN_NONE), so that no channel is taken for an LFE or a surround on a guess. */
static void channel_roles(const AVChannelLayout *layout, int channels, int32_t *roles) {
    AVChannelLayout guess = {0};
    if (layout->order == AV_CHANNEL_ORDER_UNSPEC) {
        int n = layout->nb_channels;
        if (n >= 3 && n <= 5) {
            for (int c = 0; c < channels; c++) roles[c] = AV_CHAN_NONE;
            return;
        }
        av_channel_layout_default(&guess, n);
        layout = &guess;
    }
    for (int c = 0; c < channels; c++) roles[c] = av_channel_layout_channel_from_index(layout, c);
    av_channel_layout_uninit(&guess);
}

int audio_item(vg_ctx *ctx, decoder *d, AVFrame *frame, vg_item *out) {
    int channels = frame->ch_layout.nb_channels, n = frame->nb_samples;
    if (channels <= 0 || n <= 0) return 0;
    int needed = channels * n;
    if (ctx->samples_capacity < needed) {
        av_freep(&ctx->samples);
        ctx->samples = av_malloc(needed * sizeof(float));
        ctx->samples_capacity = ctx->samples ? needed : 0;
        if (!ctx->samples) return AVERROR(ENOMEM);
    }
    if (frame->format == AV_SAMPLE_FMT_FLTP) {
        for (int c = 0; c < channels; c++) memcpy(ctx->samples + (size_t)c * n, frame->extended_data[c], n * sizeof(float));
    } else {
        /* Rebuild the resampler when the input format changes mid-stream (codec change, new channel layout). */
        if (!d->swr || d->swr_in_format != frame->format || d->swr_in_rate != frame->sample_rate ||
            av_channel_layout_compare(&d->swr_in_layout, &frame->ch_layout) != 0) {
            swr_free(&d->swr);
            av_channel_layout_uninit(&d->swr_in_layout);
            int ret = swr_alloc_set_opts2(&d->swr, &frame->ch_layout, AV_SAMPLE_FMT_FLTP, frame->sample_rate,
                                          &frame->ch_layout, frame->format, frame->sample_rate, 0, NULL);
            if (ret < 0 || (ret = swr_init(d->swr)) < 0) { set_error(ctx, "cannot convert audio", ret); return VG_ERR_FAILED; }
            av_channel_layout_copy(&d->swr_in_layout, &frame->ch_layout);
            d->swr_in_format = frame->format;
            d->swr_in_rate = frame->sample_rate;
        }
        uint8_t *planes[MAX_AUDIO_CHANNELS];
        if (channels > MAX_AUDIO_CHANNELS) channels = MAX_AUDIO_CHANNELS;
        for (int c = 0; c < channels; c++) planes[c] = (uint8_t *)(ctx->samples + (size_t)c * n);
        int got = swr_convert(d->swr, planes, n, (const uint8_t **)frame->extended_data, n);
        if (got < 0) { set_error(ctx, "cannot convert audio", got); return VG_ERR_FAILED; }
        if (got < n) { /* same rate, so this does not happen; keep the planes consistent if it does */
            for (int c = 0; c < channels; c++) memmove(ctx->samples + (size_t)c * got, ctx->samples + (size_t)c * n, got * sizeof(float));
            n = got;
        }
    }
    memset(out, 0, sizeof *out);
    out->kind = VG_ITEM_AUDIO;
    out->stream_index = d->shown_index;
    out->program = d->program->number;
    out->pts = stream_seconds(d, frame->best_effort_timestamp);
    out->duration = frame->sample_rate > 0 ? n / (double)frame->sample_rate : 0;
    out->samples = ctx->samples;
    out->channels = channels;
    out->sample_count = n;
    out->sample_rate = frame->sample_rate;
    if (channels > MAX_AUDIO_CHANNELS) channels = out->channels = MAX_AUDIO_CHANNELS;
    channel_roles(&frame->ch_layout, channels, ctx->channel_roles);
    out->channel_roles = ctx->channel_roles;
    return 1;
}

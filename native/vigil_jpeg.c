/* vigil_jpeg: an 8-bit gray picture (analysis luma) as a JPEG, for defect snapshots. */
#include "vigil_internal.h"

#include <string.h>

/* The snapshots' fixed quantiser scale (1 best .. 31 worst). */
#define JPEG_QSCALE 4
#define JPEG_FRAME_ALIGN 32

int32_t vg_encode_jpeg_gray(const uint8_t *pixels, int32_t stride, int32_t width, int32_t height, uint8_t *out, int32_t out_size) {
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec) return VG_ERR_FAILED;
    AVCodecContext *c = avcodec_alloc_context3(codec);
    AVFrame *frame = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    int result = VG_ERR_FAILED;
    init_ffmpeg_once(); /* the encoder logs like the reader: not below fatal */
    if (!c || !frame || !pkt) goto done;
    /* mjpeg wants full-range 4:2:0; gray becomes Y with neutral chroma. */
    c->width = width;
    c->height = height;
    c->pix_fmt = AV_PIX_FMT_YUVJ420P;
    c->time_base = (AVRational){1, 25}; /* required, meaningless for one picture */
    c->flags |= AV_CODEC_FLAG_QSCALE;
    c->global_quality = FF_QP2LAMBDA * JPEG_QSCALE;
    if (avcodec_open2(c, codec, NULL) < 0) goto done;
    frame->format = c->pix_fmt;
    frame->width = width;
    frame->height = height;
    frame->quality = c->global_quality;
    if (av_frame_get_buffer(frame, JPEG_FRAME_ALIGN) < 0) goto done;
    for (int y = 0; y < height; y++) memcpy(frame->data[0] + (size_t)y * frame->linesize[0], pixels + (size_t)y * stride, width);
    for (int p = 1; p <= 2; p++)
        for (int y = 0; y < (height + 1) / 2; y++) memset(frame->data[p] + (size_t)y * frame->linesize[p], 128, (width + 1) / 2);
    if (avcodec_send_frame(c, frame) < 0 || avcodec_send_frame(c, NULL) < 0) goto done;
    if (avcodec_receive_packet(c, pkt) < 0) goto done;
    if (pkt->size <= out_size) { memcpy(out, pkt->data, pkt->size); result = pkt->size; }
done:
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&c);
    return result;
}

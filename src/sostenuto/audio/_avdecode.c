/*
 * In-process decoding with libavformat / libavcodec / libswresample, for fingerprinting.
 *
 * Decoding through the ffmpeg command line costs a process start per file (it links some
 * two hundred shared libraries) and a pipe; for short tracks that is as much CPU as the
 * decoding itself. This module decodes one file to mono float32 at a given rate, with the
 * same libswresample options as the command line path, so both give the same samples.
 *
 *     decode(path, sample_rate, fast_resample) -> bytearray of native float32 samples
 *
 * The GIL is released for the whole decode. Errors raise DecodeError with libav's text.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

/* AVChannelLayout (FFmpeg 5.1) is the only channel API used: it is also the one 6.x and 7.x
 * keep. Older versions fail here, and the build goes on without this module. */
#if LIBAVUTIL_VERSION_INT < AV_VERSION_INT(57, 24, 100) || \
    LIBAVCODEC_VERSION_INT < AV_VERSION_INT(59, 37, 100)
#error "sostenuto.audio._avdecode needs FFmpeg 5.1 or newer (AVChannelLayout)"
#endif

/* The command line path's fast filter: "filter_size=16:phase_shift=8:cutoff=0.95". */
#define FAST_FILTER_SIZE 16
#define FAST_PHASE_SHIFT 8
#define FAST_CUTOFF 0.95

#define MAX_PREALLOCATED_SECONDS (4 * 3600.0)

static PyObject *DecodeError;

/* The last error libav logged on this thread: it names the cause better than the error
 * code alone (e.g. which header is broken). Only errors are formatted at all. */
static _Thread_local char last_log[256];

static void log_callback(void *avcl, int level, const char *fmt, va_list args) {
    (void)avcl;
    if (level > AV_LOG_ERROR) return;
    int n = vsnprintf(last_log, sizeof last_log, fmt, args);
    if (n <= 0) return;
    size_t end = strlen(last_log);
    while (end > 0 && (last_log[end - 1] == '\n' || last_log[end - 1] == ' ')) last_log[--end] = 0;
}

typedef struct {
    float *data;
    size_t size;     /* samples written */
    size_t capacity; /* samples allocated */
} Output;

/* Room for `more` samples after the written ones; grows by half again so that a wrong
 * size estimate costs few reallocations. */
static int reserve(Output *out, size_t more) {
    size_t needed = out->size + more;
    if (needed <= out->capacity) return 0;
    size_t capacity = out->capacity + out->capacity / 2;
    if (capacity < needed) capacity = needed;
    float *data = realloc(out->data, capacity * sizeof(float));
    if (data == NULL) return AVERROR(ENOMEM);
    out->data = data;
    out->capacity = capacity;
    return 0;
}

typedef struct {
    SwrContext *swr;
    int rate; /* target */
    int fast;
    /* what the current context was built for: a change mid-file rebuilds it */
    int in_rate;
    enum AVSampleFormat in_format;
    AVChannelLayout in_layout;
    /* Planar float stereo, what most decoders give, is mixed down here rather than by
     * libswresample, whose mixer costs as much as its resampling (a tenth of the decode):
     * same gains, float arithmetic without fused multiply-add, so the samples agree with the
     * command line's to a rounding step (3e-7 measured). */
    float left_gain, right_gain; /* 0 until computed */
    float *mixed;
    size_t mixed_capacity;
} Resampler;

/* The gains libswresample itself would use for stereo to mono (its defaults, float output,
 * so no normalisation). */
static int stereo_gains(Resampler *r) {
    if (r->left_gain != 0.0f) return 0;
    AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    double matrix[2] = {0.0, 0.0};
    int err = swr_build_matrix2(&stereo, &mono, M_SQRT1_2, M_SQRT1_2, 0.0, INT_MAX, 1.0, matrix,
                                2, AV_MATRIX_ENCODING_NONE, NULL);
    if (err < 0) return err;
    r->left_gain = (float)matrix[0];
    r->right_gain = (float)matrix[1];
    return 0;
}

/* The frame's two planes mixed into one, in a buffer reused from frame to frame. */
static int mix_stereo(Resampler *r, const AVFrame *frame, const float **mixed) {
    int err = stereo_gains(r);
    if (err < 0) return err;
    size_t n = (size_t)frame->nb_samples;
    if (n > r->mixed_capacity) {
        float *grown = realloc(r->mixed, n * sizeof(float));
        if (grown == NULL) return AVERROR(ENOMEM);
        r->mixed = grown;
        r->mixed_capacity = n;
    }
    const float *left = (const float *)frame->extended_data[0];
    const float *right = (const float *)frame->extended_data[1];
    const float left_gain = r->left_gain, right_gain = r->right_gain;
    for (size_t i = 0; i < n; i++) r->mixed[i] = left[i] * left_gain + right[i] * right_gain;
    *mixed = r->mixed;
    return 0;
}

/* Everything libswresample has buffered, into `out`. */
static int drain(Resampler *r, Output *out) {
    if (r->swr == NULL) return 0;
    for (;;) {
        int pending = swr_get_out_samples(r->swr, 0);
        if (pending <= 0) pending = 1024;
        int err = reserve(out, (size_t)pending);
        if (err < 0) return err;
        uint8_t *dst = (uint8_t *)(out->data + out->size);
        int n = swr_convert(r->swr, &dst, pending, NULL, 0);
        if (n < 0) return n;
        if (n == 0) return 0;
        out->size += (size_t)n;
    }
}

static int configure(Resampler *r, Output *out, int in_rate, enum AVSampleFormat in_format,
                     AVChannelLayout *layout) {
    if (r->swr != NULL && r->in_rate == in_rate && r->in_format == in_format &&
        av_channel_layout_compare(&r->in_layout, layout) == 0)
        return 0;
    /* The stream changed: what the old context holds belongs before the new samples. */
    int err = drain(r, out);
    if (err < 0) return err;
    swr_free(&r->swr);
    av_channel_layout_uninit(&r->in_layout);
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    err = swr_alloc_set_opts2(&r->swr, &mono, AV_SAMPLE_FMT_FLT, r->rate, layout, in_format,
                              in_rate, 0, NULL);
    if (err < 0) return err;
    if (r->fast) {
        if ((err = av_opt_set_int(r->swr, "filter_size", FAST_FILTER_SIZE, 0)) < 0 ||
            (err = av_opt_set_int(r->swr, "phase_shift", FAST_PHASE_SHIFT, 0)) < 0 ||
            (err = av_opt_set_double(r->swr, "cutoff", FAST_CUTOFF, 0)) < 0)
            return err;
    }
    if ((err = swr_init(r->swr)) < 0) return err;
    if ((err = av_channel_layout_copy(&r->in_layout, layout)) < 0) return err;
    r->in_rate = in_rate;
    r->in_format = in_format;
    return 0;
}

/* Mix down and resample one decoded frame straight into the output buffer. */
static int convert(Resampler *r, Output *out, const AVFrame *frame) {
    if (frame->nb_samples <= 0) return 0;
    AVChannelLayout layout = {0};
    int err;
    /* A stream that names no layout (e.g. WAV without a channel mask) gets the usual one for
     * its channel count, as the command line does. */
    if (frame->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
        av_channel_layout_default(&layout, frame->ch_layout.nb_channels);
    else if ((err = av_channel_layout_copy(&layout, &frame->ch_layout)) < 0)
        return err;
    const uint8_t **planes = (const uint8_t **)frame->extended_data;
    const float *mixed = NULL;
    AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
    if (frame->format == AV_SAMPLE_FMT_FLTP && av_channel_layout_compare(&layout, &stereo) == 0) {
        if ((err = mix_stereo(r, frame, &mixed)) < 0) {
            av_channel_layout_uninit(&layout);
            return err;
        }
        av_channel_layout_uninit(&layout);
        layout = (AVChannelLayout)AV_CHANNEL_LAYOUT_MONO;
        planes = (const uint8_t **)&mixed;
    }
    err = configure(r, out, frame->sample_rate, frame->format, &layout);
    av_channel_layout_uninit(&layout);
    if (err < 0) return err;
    int most = swr_get_out_samples(r->swr, frame->nb_samples);
    if (most < 0) return most;
    if ((err = reserve(out, (size_t)most)) < 0) return err;
    uint8_t *dst = (uint8_t *)(out->data + out->size);
    int n = swr_convert(r->swr, &dst, most, planes, frame->nb_samples);
    if (n < 0) return n;
    out->size += (size_t)n;
    return 0;
}

/* What the decoder refused: the command line logs such errors and goes on with the next
 * packet, so a damaged or odd packet costs its own samples, never the file's. */
typedef struct {
    int count; /* packets or frames the decoder refused */
    int last;  /* the last refusal's AVERROR */
} Refusals;

static int refused(Refusals *refusals, int err) {
    if (err == AVERROR(ENOMEM)) return err;
    refusals->count++;
    refusals->last = err;
    return 0;
}

/* Every frame the decoder has ready. Errors of the decoder are counted in `refusals`;
 * only running out of memory or a failure to resample ends the decode. */
static int receive(AVCodecContext *codec, AVFrame *frame, Resampler *r, Output *out,
                   Refusals *refusals) {
    for (;;) {
        int err = avcodec_receive_frame(codec, frame);
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return 0;
        if (err < 0) return refused(refusals, err);
        err = convert(r, out, frame);
        av_frame_unref(frame);
        if (err < 0) return err;
    }
}

typedef struct {
    int code;           /* AVERROR, 0 when fine */
    const char *during; /* what was being done */
} Failure;

static int fail(Failure *failure, int code, const char *during) {
    failure->code = code;
    failure->during = during;
    return code;
}

/* The whole decode; runs without the GIL. */
static int decode_file(const char *path, int rate, int fast, Output *out, Failure *failure) {
    AVFormatContext *format = NULL;
    AVCodecContext *codec = NULL;
    AVPacket *packet = NULL;
    AVFrame *frame = NULL;
    Resampler resampler = {.rate = rate, .fast = fast};
    const AVCodec *decoder = NULL;
    int err;

    if ((err = avformat_open_input(&format, path, NULL, NULL)) < 0) {
        fail(failure, err, "opening");
        goto done;
    }
    if ((err = avformat_find_stream_info(format, NULL)) < 0) {
        fail(failure, err, "reading stream parameters");
        goto done;
    }
    int index = av_find_best_stream(format, AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0);
    if (index < 0) {
        err = fail(failure, index, index == AVERROR_DECODER_NOT_FOUND ? "finding a decoder"
                                                                      : "finding an audio stream");
        goto done;
    }
    /* The demuxer then skips the packets of video, cover art and subtitle streams. */
    for (unsigned i = 0; i < format->nb_streams; i++)
        if ((int)i != index) format->streams[i]->discard = AVDISCARD_ALL;

    AVStream *stream = format->streams[index];
    codec = avcodec_alloc_context3(decoder);
    if (codec == NULL) {
        err = fail(failure, AVERROR(ENOMEM), "allocating the decoder");
        goto done;
    }
    if ((err = avcodec_parameters_to_context(codec, stream->codecpar)) < 0) {
        fail(failure, err, "setting up the decoder");
        goto done;
    }
    codec->pkt_timebase = stream->time_base;
    /* One thread: a pool bills CPU for idle waiting, and audio decoders gain nothing. */
    codec->thread_count = 1;
    if ((err = avcodec_open2(codec, decoder, NULL)) < 0) {
        fail(failure, err, "opening the decoder");
        goto done;
    }

    /* Room for the whole track when the container knows its length; a header that claims
     * days is not believed beyond a few hours (the buffer grows if it was right). */
    if (format->duration > 0) {
        double seconds = (double)format->duration / AV_TIME_BASE;
        if (seconds > MAX_PREALLOCATED_SECONDS) seconds = MAX_PREALLOCATED_SECONDS;
        if ((err = reserve(out, (size_t)(seconds * rate * 1.01) + (size_t)rate)) < 0) {
            fail(failure, err, "allocating the output");
            goto done;
        }
    }

    packet = av_packet_alloc();
    frame = av_frame_alloc();
    if (packet == NULL || frame == NULL) {
        err = fail(failure, AVERROR(ENOMEM), "allocating a frame");
        goto done;
    }
    Refusals refusals = {0};
    for (;;) {
        err = av_read_frame(format, packet);
        /* A read error mid-file (a truncated download) ends the audio there, as on the
         * command line: what was decoded is kept. */
        if (err < 0) break;
        /* An empty packet carries no audio, and avcodec_send_packet refuses one whose data
         * pointer is set (EINVAL): the Ogg demuxer gives one for a zero-length packet, which
         * VLC writes on the last page of the streams it encodes (supertux-data's
         * christmas_theme.ogg). It used to fail the whole file. */
        if (packet->stream_index == index && packet->size > 0) {
            err = avcodec_send_packet(codec, packet);
            if (err < 0 && err != AVERROR(EAGAIN)) err = refused(&refusals, err);
            if (err >= 0 || err == AVERROR(EAGAIN))
                err = receive(codec, frame, &resampler, out, &refusals);
            if (err < 0) {
                av_packet_unref(packet);
                fail(failure, err, "decoding");
                goto done;
            }
        }
        av_packet_unref(packet);
    }
    /* The decoder's and the resampler's last samples. */
    err = avcodec_send_packet(codec, NULL);
    if (err >= 0 || err == AVERROR_EOF) err = receive(codec, frame, &resampler, out, &refusals);
    if (err < 0) {
        fail(failure, err, "decoding");
        goto done;
    }
    if ((err = drain(&resampler, out)) < 0) {
        fail(failure, err, "resampling");
        goto done;
    }
    /* Nothing at all decoded: the decoder's own reason says more than "no audio". */
    if (out->size == 0 && refusals.count > 0) {
        err = fail(failure, refusals.last, "decoding");
        goto done;
    }
    err = 0;

done:
    swr_free(&resampler.swr);
    free(resampler.mixed);
    av_channel_layout_uninit(&resampler.in_layout);
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&codec);
    avformat_close_input(&format);
    return err;
}

static PyObject *decode(PyObject *module, PyObject *args, PyObject *kwargs) {
    (void)module;
    static char *keywords[] = {"path", "sample_rate", "fast_resample", NULL};
    PyObject *path_bytes = NULL;
    int rate = 0;
    int fast = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&ip:decode", keywords,
                                     PyUnicode_FSConverter, &path_bytes, &rate, &fast))
        return NULL;
    if (rate <= 0) {
        Py_DECREF(path_bytes);
        PyErr_SetString(PyExc_ValueError, "sample_rate must be positive");
        return NULL;
    }
    const char *path = PyBytes_AS_STRING(path_bytes);
    Output out = {0};
    Failure failure = {0};
    int err;
    Py_BEGIN_ALLOW_THREADS
    last_log[0] = 0;
    err = decode_file(path, rate, fast, &out, &failure);
    Py_END_ALLOW_THREADS

    PyObject *result = NULL;
    if (err == AVERROR(ENOMEM)) {
        PyErr_NoMemory();
    } else if (err < 0) {
        char reason[AV_ERROR_MAX_STRING_SIZE] = {0};
        av_strerror(err, reason, sizeof reason);
        if (last_log[0] && strstr(last_log, reason) == NULL)
            PyErr_Format(DecodeError, "%s while %s: %s (%s)", reason, failure.during, path,
                         last_log);
        else
            PyErr_Format(DecodeError, "%s while %s: %s", reason, failure.during, path);
    } else {
        result = PyByteArray_FromStringAndSize((const char *)out.data,
                                               (Py_ssize_t)(out.size * sizeof(float)));
    }
    free(out.data);
    Py_DECREF(path_bytes);
    return result;
}

static PyMethodDef methods[] = {
    {"decode", (PyCFunction)(void (*)(void))decode, METH_VARARGS | METH_KEYWORDS,
     "decode(path, sample_rate, fast_resample) -> bytearray\n\n"
     "Decode the first audio stream of path, mixed down to mono and resampled to\n"
     "sample_rate, as native float32 samples. fast_resample picks the short filter\n"
     "(filter_size=16:phase_shift=8:cutoff=0.95). Raises DecodeError."},
    {NULL, NULL, 0, NULL},
};

static int exec_module(PyObject *module) {
    DecodeError = PyErr_NewExceptionWithDoc(
        "sostenuto.audio._avdecode.DecodeError",
        "libav could not open or decode the file; the message carries its reason.", NULL, NULL);
    if (DecodeError == NULL) return -1;
    if (PyModule_AddObjectRef(module, "DecodeError", DecodeError) < 0) return -1;
    /* libav prints to stderr by default; its errors reach the caller in exceptions instead. */
    av_log_set_level(AV_LOG_ERROR);
    av_log_set_callback(log_callback);
    return 0;
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sostenuto.audio._avdecode",
    .m_doc = "Decode audio in process with libavformat/libavcodec/libswresample.",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC PyInit__avdecode(void) { return PyModuleDef_Init(&module_def); }

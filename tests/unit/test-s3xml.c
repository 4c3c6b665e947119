/* Unit tests for s3xml.c: S3 XML responses in, request bodies out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3batchd.h"
#include "s3xml.h"
#include "unit.h"

/* Everything the list callbacks see, as text, to compare runs. */
struct seen {
	struct buf	 log;
	int		 stop_after;	/* >0: fail the nth callback */
	int		 calls;
};

/* Empty fields print as "-". */
static const char *
str(const struct buf *b)
{
	return (b->len != 0 ? b->data : "-");
}

static int
seen_stop(struct seen *s, char **cause)
{
	if (s->stop_after != 0 && ++s->calls == s->stop_after) {
		*cause = xstrdup("enough");
		return (-1);
	}
	return (0);
}

static int
seen_object_cb(const struct s3xml_object *o, void *arg, char **cause)
{
	struct seen	*s = arg;

	buf_addf(&s->log, "O[");
	buf_add(&s->log, o->key.data, o->key.len);
	buf_addf(&s->log, "] %lld %s %llu %s %s/%s %s %s\n",
	    (long long)o->size, str(&o->etag),
	    (unsigned long long)o->last_modified,
	    str(&o->storage_class),
	    str(&o->owner_id),
	    str(&o->owner_name),
	    str(&o->checksum_algorithm),
	    str(&o->checksum_type));
	return (seen_stop(s, cause));
}

static int
seen_prefix_cb(const struct buf *prefix, void *arg, char **cause)
{
	struct seen	*s = arg;

	buf_adds(&s->log, "P[");
	buf_add(&s->log, prefix->data, prefix->len);
	buf_adds(&s->log, "]\n");
	return (seen_stop(s, cause));
}

static int
seen_version_cb(const struct s3xml_version *v, void *arg, char **cause)
{
	struct seen	*s = arg;

	buf_addf(&s->log, "%s[%s] %s latest=%d %llu %s %lld %s %s\n",
	    v->delete_marker ? "D" : "V", v->key.data, v->version_id.data,
	    v->is_latest, (unsigned long long)v->last_modified,
	    str(&v->etag), (long long)v->size,
	    str(&v->storage_class),
	    str(&v->owner_id));
	return (seen_stop(s, cause));
}

static int
seen_upload_cb(const struct s3xml_upload *u, void *arg, char **cause)
{
	struct seen	*s = arg;

	buf_addf(&s->log, "U[%s] %s %llu %s\n", u->key.data, u->upload_id.data,
	    (unsigned long long)u->initiated, u->storage_class.data);
	return (seen_stop(s, cause));
}

static int
seen_deleted_cb(const struct s3xml_deleted *d, void *arg, char **cause)
{
	struct seen	*s = arg;

	buf_addf(&s->log, "%s[%s] v=%s dm=%d dmv=%s %s %s\n",
	    d->error ? "E" : "X", d->key.data,
	    str(&d->version_id), d->delete_marker,
	    str(&d->delete_marker_version_id),
	    str(&d->code),
	    str(&d->message));
	return (seen_stop(s, cause));
}

static const struct s3xml_cbs seen_cbs = {
	0, seen_object_cb, seen_prefix_cb, seen_version_cb, seen_upload_cb,
	seen_deleted_cb
};

/* Parse doc fed in chunks of chunk bytes (0: all at once). */
static int
parse_chunked(enum s3xml_doc doc, const char *xml, size_t len, size_t chunk,
    void *out, const struct s3xml_cbs *cbs, struct seen *seen, char **cause)
{
	struct s3xml	*p;
	size_t		 off, n;
	int		 rc = 0;

	p = s3xml_new(doc, out, cbs, seen, 0);
	for (off = 0; rc == 0 && off < len; off += n) {
		n = chunk == 0 ? len : chunk;
		if (n > len - off)
			n = len - off;
		rc = s3xml_feed(p, xml + off, n, cause);
	}
	if (rc == 0)
		rc = s3xml_finish(p, cause);
	s3xml_free(p);
	return (rc);
}

/* Amazon's ListObjectsV2 example, with a prefix group and an owner. */
static const char list_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
    "  <Name>example-bucket</Name>\n"
    "  <Prefix></Prefix>\n"
    "  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
    "</NextContinuationToken>\n"
    "  <KeyCount>3</KeyCount>\n"
    "  <MaxKeys>3</MaxKeys>\n"
    "  <Delimiter>/</Delimiter>\n"
    "  <IsTruncated>true</IsTruncated>\n"
    "  <Contents>\n"
    "    <Key>ExampleObject.txt</Key>\n"
    "    <LastModified>2013-09-17T18:07:53.000Z</LastModified>\n"
    "    <ETag>&quot;599bab3ed2c697f1d26842727561fd94&quot;</ETag>\n"
    "    <Size>857</Size>\n"
    "    <StorageClass>REDUCED_REDUNDANCY</StorageClass>\n"
    "  </Contents>\n"
    "  <Contents>\n"
    "    <Key>my-image &amp; &lt;friends&gt;.jpg</Key>\n"
    "    <LastModified>2009-10-12T17:50:30.000Z</LastModified>\n"
    "    <ETag>\"fba9dede5f27731c9771645a39863328\"</ETag>\n"
    "    <Size>434234</Size>\n"
    "    <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
    "</ID><DisplayName>mtd@amazon.com</DisplayName></Owner>\n"
    "    <ChecksumAlgorithm>CRC32</ChecksumAlgorithm>\n"
    "    <ChecksumAlgorithm>SHA256</ChecksumAlgorithm>\n"
    "    <ChecksumType>FULL_OBJECT</ChecksumType>\n"
    "    <StorageClass>STANDARD</StorageClass>\n"
    "    <RestoreStatus><IsRestoreInProgress>false</IsRestoreInProgress>"
    "</RestoreStatus>\n"
    "  </Contents>\n"
    "  <CommonPrefixes><Prefix>photos/</Prefix></CommonPrefixes>\n"
    "  <CommonPrefixes><Prefix>videos/</Prefix></CommonPrefixes>\n"
    "</ListBucketResult>\n";

static const char list_expect[] =
    "O[ExampleObject.txt] 857 \"599bab3ed2c697f1d26842727561fd94\" "
    "1379441273000 REDUCED_REDUNDANCY -/- - -\n"
    "O[my-image & <friends>.jpg] 434234 \"fba9dede5f27731c9771645a39863328\" "
    "1255369830000 STANDARD "
    "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a/"
    "mtd@amazon.com CRC32,SHA256 FULL_OBJECT\n"
    "P[photos/]\n"
    "P[videos/]\n";

static void
test_list_objects(void)
{
	struct s3xml_list_page	 page;
	struct seen		 seen;
	char			*cause = NULL, *first;
	size_t			 chunk;
	static const size_t	 chunks[] = { 0, 1, 2, 3, 7, 64, 4096 };
	size_t			 i;

	first = NULL;
	for (i = 0; i < nitems(chunks); i++) {
		chunk = chunks[i];
		memset(&seen, 0, sizeof seen);
		CHECK_INT(parse_chunked(S3XML_DOC_LIST_OBJECTS, list_xml,
		    strlen(list_xml), chunk, &page, &seen_cbs, &seen,
		    &cause), 0);
		if (cause != NULL) {
			fprintf(stderr, "list chunk %zu: %s\n", chunk, cause);
			free(cause);
			cause = NULL;
		}
		CHECK_STR(seen.log.data, list_expect);
		if (first == NULL)
			first = xstrdup(seen.log.data);
		else
			CHECK_STR(seen.log.data, first);
		CHECK_STR(page.name.data, "example-bucket");
		CHECK_INT(page.prefix.len, 0);
		CHECK_STR(page.delimiter.data, "/");
		CHECK_STR(page.next_continuation_token.data,
		    "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
		CHECK_INT(page.key_count, 3);
		CHECK_INT(page.max_keys, 3);
		CHECK_INT(page.is_truncated, 1);
		CHECK_INT(page.objects, 2);
		CHECK_INT(page.prefixes, 2);
		s3xml_list_page_free(&page);
		buf_free(&seen.log);
	}
	free(first);

	/* A callback can stop the parse with its own cause. */
	memset(&seen, 0, sizeof seen);
	seen.stop_after = 2;
	CHECK_INT(parse_chunked(S3XML_DOC_LIST_OBJECTS, list_xml,
	    strlen(list_xml), 5, &page, &seen_cbs, &seen, &cause), -1);
	CHECK_STR(cause, "enough");
	free(cause);
	cause = NULL;
	s3xml_list_page_free(&page);
	buf_free(&seen.log);

	/* No callbacks at all: counts only. */
	CHECK_INT(s3xml_parse(S3XML_DOC_LIST_OBJECTS, list_xml,
	    strlen(list_xml), &page, NULL, NULL, &cause), 0);
	CHECK_INT(page.objects, 2);
	s3xml_list_page_free(&page);
}

/* A page of 1000 keys, fed in odd chunks: nothing kept but the entry. */
static void
test_list_big(void)
{
	struct s3xml_list_page	 page;
	struct seen		 seen;
	struct buf		 doc;
	char			*cause = NULL;
	int			 i;

	buf_init(&doc);
	buf_adds(&doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\"><Name>big</Name><Prefix>logs/</Prefix>"
	    "<KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys>"
	    "<IsTruncated>false</IsTruncated>");
	for (i = 0; i < 1000; i++)
		buf_addf(&doc, "<Contents><Key>logs/%06d.gz</Key><LastModified>"
		    "2024-02-29T23:59:59.999Z</LastModified><ETag>&quot;%032x"
		    "&quot;</ETag><Size>%d</Size><StorageClass>STANDARD"
		    "</StorageClass></Contents>", i, i, i * 10);
	buf_adds(&doc, "</ListBucketResult>");
	memset(&seen, 0, sizeof seen);
	CHECK_INT(parse_chunked(S3XML_DOC_LIST_OBJECTS, doc.data, doc.len,
	    997, &page, &seen_cbs, &seen, &cause), 0);
	CHECK_INT(page.objects, 1000);
	CHECK_STR(page.prefix.data, "logs/");
	CHECK(strstr(seen.log.data, "O[logs/000999.gz] 9990 "
	    "\"000000000000000000000000000003e7\" 1709251199999 ") != NULL);
	s3xml_list_page_free(&page);
	buf_free(&seen.log);

	/* The same document over a 4 KiB document limit. */
	{
		struct s3xml	*p;

		p = s3xml_new(S3XML_DOC_LIST_OBJECTS, &page, NULL, NULL, 4096);
		CHECK_INT(s3xml_feed(p, doc.data, 4000, &cause), 0);
		CHECK_INT(s3xml_feed(p, doc.data + 4000, 200, &cause), -1);
		CHECK_STR(cause, "XML: document larger than 4096 bytes");
		free(cause);
		cause = NULL;
		CHECK_INT(s3xml_finish(p, &cause), -1);
		free(cause);
		s3xml_free(p);
		s3xml_list_page_free(&page);
	}
	buf_free(&doc);
}

static void
test_list_url(void)
{
	static const char xml[] =
	    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Name>b</Name><Prefix>dir%2Fsp+ace%26</Prefix>"
	    "<StartAfter>a%3Cb</StartAfter>"
	    "<EncodingType>url</EncodingType>"
	    "<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>"
	    "<IsTruncated>false</IsTruncated>"
	    "<Contents><Key>dir%2Fsp+ace%26%01ctl%0A%2B</Key>"
	    "<LastModified>2024-01-01T00:00:00Z</LastModified>"
	    "<ETag>\"x\"</ETag><Size>0</Size></Contents>"
	    "<Contents><Key>nul%00byte</Key>"
	    "<LastModified>2024-01-01T00:00:00.5+01:00</LastModified>"
	    "<ETag>\"y\"</ETag><Size>1</Size></Contents>"
	    "<CommonPrefixes><Prefix>p%C3%A9/</Prefix></CommonPrefixes>"
	    "</ListBucketResult>";
	static const char late[] =
	    "<ListBucketResult><Name>b</Name>"
	    "<Contents><Key>a%20b</Key></Contents>"
	    "<EncodingType>url</EncodingType></ListBucketResult>";
	static const char bad[] =
	    "<ListBucketResult><EncodingType>url</EncodingType>"
	    "<Contents><Key>a%2</Key></Contents></ListBucketResult>";
	static const char unknown[] =
	    "<ListBucketResult><EncodingType>base64</EncodingType>"
	    "</ListBucketResult>";
	struct s3xml_list_page	 page;
	struct seen		 seen;
	struct s3xml_cbs	 cbs = seen_cbs;
	char			*cause = NULL;

	memset(&seen, 0, sizeof seen);
	CHECK_INT(parse_chunked(S3XML_DOC_LIST_OBJECTS, xml, strlen(xml), 1,
	    &page, &seen_cbs, &seen, &cause), 0);
	CHECK(seen.log.len > 0 && memcmp(seen.log.data,
	    "O[dir/sp ace&\001ctl\n+] 0 \"x\" 1704067200000 ", 40) == 0);
	CHECK(memmem(seen.log.data, seen.log.len, "O[nul\0byte] 1 \"y\" "
	    "1704063600500 ", 32) != NULL);
	CHECK(strstr(seen.log.data + 60, "P[p\xc3\xa9/]\n") != NULL);
	CHECK_STR(page.prefix.data, "dir/sp ace&");
	CHECK_STR(page.start_after.data, "a<b");
	CHECK_STR(page.encoding_type.data, "url");
	s3xml_list_page_free(&page);
	buf_free(&seen.log);

	/* EncodingType after the keys: only safe if the caller said so. */
	memset(&seen, 0, sizeof seen);
	CHECK_INT(parse_chunked(S3XML_DOC_LIST_OBJECTS, late, strlen(late), 0,
	    &page, &seen_cbs, &seen, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "S3XML_URL_ENCODED") != NULL);
	free(cause);
	cause = NULL;
	s3xml_list_page_free(&page);
	buf_free(&seen.log);
	cbs.flags = S3XML_URL_ENCODED;
	memset(&seen, 0, sizeof seen);
	CHECK_INT(parse_chunked(S3XML_DOC_LIST_OBJECTS, late, strlen(late), 0,
	    &page, &cbs, &seen, &cause), 0);
	CHECK(strncmp(seen.log.data, "O[a b]", 6) == 0);
	s3xml_list_page_free(&page);
	buf_free(&seen.log);

	CHECK_INT(s3xml_parse(S3XML_DOC_LIST_OBJECTS, bad, strlen(bad), &page,
	    NULL, NULL, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "Contents/Key: bad URL "
	    "encoding") != NULL);
	free(cause);
	cause = NULL;
	s3xml_list_page_free(&page);
	CHECK_INT(s3xml_parse(S3XML_DOC_LIST_OBJECTS, unknown,
	    strlen(unknown), &page, NULL, NULL, &cause), -1);
	CHECK_STR(cause, "XML line 1: EncodingType: unknown encoding "
	    "\"base64\"");
	free(cause);
	s3xml_list_page_free(&page);
}

static void
test_list_versions(void)
{
	/* Amazon's ListObjectVersions example. */
	static const char xml[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<ListVersionsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01\">\n"
	    "  <Name>bucket</Name>\n"
	    "  <Prefix>my</Prefix>\n"
	    "  <KeyMarker/>\n"
	    "  <VersionIdMarker/>\n"
	    "  <MaxKeys>5</MaxKeys>\n"
	    "  <IsTruncated>true</IsTruncated>\n"
	    "  <NextKeyMarker>my-second-image.jpg</NextKeyMarker>\n"
	    "  <NextVersionIdMarker>03jpff543dhffds434rfdsFDN943fdsFkdmqnh892"
	    "</NextVersionIdMarker>\n"
	    "  <Version>\n"
	    "    <Key>my-image.jpg</Key>\n"
	    "    <VersionId>3/L4kqtJl40Nr8X8gdRQBpUMLUo</VersionId>\n"
	    "    <IsLatest>true</IsLatest>\n"
	    "    <LastModified>2009-10-12T17:50:30.000Z</LastModified>\n"
	    "    <ETag>\"fba9dede5f27731c9771645a39863328\"</ETag>\n"
	    "    <Size>434234</Size>\n"
	    "    <StorageClass>STANDARD</StorageClass>\n"
	    "    <Owner>\n"
	    "      <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>\n"
	    "      <DisplayName>mtd@amazon.com</DisplayName>\n"
	    "    </Owner>\n"
	    "  </Version>\n"
	    "  <DeleteMarker>\n"
	    "    <Key>my-second-image.jpg</Key>\n"
	    "    <VersionId>03jpff543dhffds434rfdsFDN943fdsFkdmqnh892</VersionId>\n"
	    "    <IsLatest>true</IsLatest>\n"
	    "    <LastModified>2009-11-12T17:50:30.000Z</LastModified>\n"
	    "    <Owner>\n"
	    "      <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>\n"
	    "      <DisplayName>mtd@amazon.com</DisplayName>\n"
	    "    </Owner>\n"
	    "  </DeleteMarker>\n"
	    "  <Version>\n"
	    "    <Key>my-second-image.jpg</Key>\n"
	    "    <VersionId>QUpfdndhfd8438MNFDN93jdnJFkdmqnh893</VersionId>\n"
	    "    <IsLatest>false</IsLatest>\n"
	    "    <LastModified>2009-10-10T17:50:30.000Z</LastModified>\n"
	    "    <ETag>\"9b2cf535f27731c974343645a3985328\"</ETag>\n"
	    "    <Size>166434</Size>\n"
	    "    <StorageClass>GLACIER</StorageClass>\n"
	    "  </Version>\n"
	    "</ListVersionsResult>\n";
	static const char expect[] =
	    "V[my-image.jpg] 3/L4kqtJl40Nr8X8gdRQBpUMLUo latest=1 1255369830000 "
	    "\"fba9dede5f27731c9771645a39863328\" 434234 STANDARD "
	    "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a\n"
	    "D[my-second-image.jpg] 03jpff543dhffds434rfdsFDN943fdsFkdmqnh892 "
	    "latest=1 1258048230000 - 0 - "
	    "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a\n"
	    "V[my-second-image.jpg] QUpfdndhfd8438MNFDN93jdnJFkdmqnh893 latest=0 "
	    "1255197030000 \"9b2cf535f27731c974343645a3985328\" 166434 GLACIER "
	    "-\n";
	struct s3xml_versions_page	 page;
	struct seen			 seen;
	char				*cause = NULL;
	size_t				 chunk;

	for (chunk = 0; chunk < 4; chunk++) {
		memset(&seen, 0, sizeof seen);
		CHECK_INT(parse_chunked(S3XML_DOC_LIST_VERSIONS, xml,
		    strlen(xml), chunk, &page, &seen_cbs, &seen, &cause), 0);
		CHECK_STR(seen.log.data, expect);
		CHECK_INT(page.versions, 2);
		CHECK_INT(page.delete_markers, 1);
		CHECK_INT(page.is_truncated, 1);
		CHECK_INT(page.max_keys, 5);
		CHECK_STR(page.prefix.data, "my");
		CHECK_STR(page.next_key_marker.data, "my-second-image.jpg");
		CHECK_STR(page.next_version_id_marker.data,
		    "03jpff543dhffds434rfdsFDN943fdsFkdmqnh892");
		CHECK_INT(page.key_marker.len, 0);
		s3xml_versions_page_free(&page);
		buf_free(&seen.log);
	}
}

static void
test_uploads_and_delete(void)
{
	static const char uploads[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\">\n"
	    "  <Bucket>bucket</Bucket>\n  <KeyMarker></KeyMarker>\n"
	    "  <UploadIdMarker></UploadIdMarker>\n"
	    "  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>\n"
	    "  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ"
	    "</NextUploadIdMarker>\n"
	    "  <MaxUploads>3</MaxUploads>\n  <IsTruncated>true</IsTruncated>\n"
	    "  <Upload>\n    <Key>my-divisor</Key>\n"
	    "    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw"
	    "</UploadId>\n"
	    "    <Initiator><ID>arn:aws:iam::111122223333:user/user1</ID>"
	    "<DisplayName>user1</DisplayName></Initiator>\n"
	    "    <StorageClass>STANDARD</StorageClass>\n"
	    "    <Initiated>2010-11-10T20:48:33.000Z</Initiated>\n"
	    "  </Upload>\n"
	    "</ListMultipartUploadsResult>\n";
	static const char deleted[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
	    "  <Deleted>\n    <Key>sample1.txt</Key>\n  </Deleted>\n"
	    "  <Deleted>\n    <Key>SampleDocument.txt</Key>\n"
	    "    <DeleteMarker>true</DeleteMarker>\n"
	    "    <DeleteMarkerVersionId>NeQt5xeFTfgPJD8B4CGWnkSLtluMr11s"
	    "</DeleteMarkerVersionId>\n  </Deleted>\n"
	    "  <Error>\n    <Key>sample2.txt</Key>\n"
	    "    <VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId>\n"
	    "    <Code>AccessDenied</Code>\n    <Message>Access Denied</Message>\n"
	    "  </Error>\n"
	    "</DeleteResult>\n";
	struct s3xml_uploads_page	 up;
	struct s3xml_delete_result	 dr;
	struct seen			 seen;
	char				*cause = NULL;

	memset(&seen, 0, sizeof seen);
	CHECK_INT(parse_chunked(S3XML_DOC_LIST_UPLOADS, uploads,
	    strlen(uploads), 1, &up, &seen_cbs, &seen, &cause), 0);
	CHECK_STR(seen.log.data, "U[my-divisor] "
	    "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw 1289422113000 "
	    "STANDARD\n");
	CHECK_STR(up.bucket.data, "bucket");
	CHECK_STR(up.next_key_marker.data, "my-movie.m2ts");
	CHECK_INT(up.max_uploads, 3);
	CHECK_INT(up.is_truncated, 1);
	CHECK_INT(up.uploads, 1);
	s3xml_uploads_page_free(&up);
	buf_free(&seen.log);

	memset(&seen, 0, sizeof seen);
	CHECK_INT(parse_chunked(S3XML_DOC_DELETE_RESULT, deleted,
	    strlen(deleted), 3, &dr, &seen_cbs, &seen, &cause), 0);
	CHECK_STR(seen.log.data,
	    "X[sample1.txt] v=- dm=0 dmv=- - -\n"
	    "X[SampleDocument.txt] v=- dm=1 "
	    "dmv=NeQt5xeFTfgPJD8B4CGWnkSLtluMr11s - -\n"
	    "E[sample2.txt] v=OYcLXagmS.WaD..oyH4KRguB95_YhLs7 dm=0 dmv=- "
	    "AccessDenied Access Denied\n");
	CHECK_INT(dr.deleted, 2);
	CHECK_INT(dr.errors, 1);
	s3xml_delete_result_free(&dr);
	buf_free(&seen.log);
}

static void
test_error(void)
{
	static const char err[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Error>\n"
	    "  <Code>NoSuchKey</Code>\n"
	    "  <Message>The resource you requested does not exist</Message>\n"
	    "  <Resource>/mybucket/myfoto.jpg</Resource>\n"
	    "  <RequestId>4442587FB7D0A2F9</RequestId>\n"
	    "  <HostId>zz+2zz</HostId>\n"
	    "</Error>\n";
	/* CopyObject can fail after its 200 header went out. */
	static const char in200[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n"
	    "<Error><Code>InternalError</Code><Message>We encountered an "
	    "internal error. Please try again.</Message><RequestId>656c76696e67"
	    "</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtR"
	    "PfTaOFg==</HostId></Error>";
	static const char redirect[] =
	    "<Error><Code>PermanentRedirect</Code><Message>The bucket you are "
	    "attempting to access must be addressed using the specified "
	    "endpoint.</Message><Endpoint>b.s3-eu-west-1.amazonaws.com"
	    "</Endpoint><Bucket>b</Bucket><BucketName>b</BucketName>"
	    "<Region>eu-west-1</Region></Error>";
	struct s3xml_error	 e;
	struct s3xml_copy	 c;
	struct s3xml		*p;
	char			*cause = NULL;

	CHECK_INT(s3xml_parse_error(err, strlen(err), &e, &cause), 0);
	CHECK_STR(e.code.data, "NoSuchKey");
	CHECK_STR(e.message.data, "The resource you requested does not exist");
	CHECK_STR(e.resource.data, "/mybucket/myfoto.jpg");
	CHECK_STR(e.request_id.data, "4442587FB7D0A2F9");
	CHECK_STR(e.host_id.data, "zz+2zz");
	s3xml_error_free(&e);

	CHECK_INT(s3xml_parse_error(redirect, strlen(redirect), &e, &cause),
	    0);
	CHECK_STR(e.region.data, "eu-west-1");
	CHECK_STR(e.endpoint.data, "b.s3-eu-west-1.amazonaws.com");
	CHECK_STR(e.bucket_name.data, "b");
	s3xml_error_free(&e);

	/* An error body without a Code is not an S3 error. */
	CHECK_INT(s3xml_parse_error("<Error><Message>x</Message></Error>", 35,
	    &e, &cause), -1);
	CHECK_STR(cause, "XML line 1: <Error> has no Code");
	free(cause);
	cause = NULL;
	s3xml_error_free(&e);

	p = s3xml_new(S3XML_DOC_COPY_OBJECT, &c, NULL, NULL, 1 << 20);
	CHECK_INT(s3xml_kind(p), S3XML_DOC_NONE);
	CHECK(s3xml_get_error(p) == NULL);
	CHECK_INT(s3xml_feed(p, in200, strlen(in200), &cause), 0);
	CHECK_INT(s3xml_finish(p, &cause), -1);
	CHECK_STR(cause, "S3 error InternalError: We encountered an internal "
	    "error. Please try again.");
	free(cause);
	cause = NULL;
	CHECK_INT(s3xml_kind(p), S3XML_DOC_ERROR);
	CHECK(s3xml_get_error(p) != NULL &&
	    strcmp(s3xml_get_error(p)->request_id.data, "656c76696e67") == 0);
	CHECK_INT(c.etag.len, 0);
	s3xml_free(p);
	s3xml_copy_free(&c);

	/* And through the one-shot helper. */
	CHECK_INT(s3xml_parse_copy(in200, strlen(in200), &c, &cause), -1);
	CHECK(cause != NULL && strncmp(cause, "S3 error InternalError", 22) ==
	    0);
	free(cause);
	s3xml_copy_free(&c);
	CHECK_STR(s3xml_doc_name(S3XML_DOC_LIST_VERSIONS), "ListVersionsResult");
}

static void
test_small_docs(void)
{
	static const char copy[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<CopyObjectResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<LastModified>2009-10-28T22:32:00.000Z</LastModified>"
	    "<ETag>\"9b2cf535f27731c974343645a3985328\"</ETag>"
	    "<ChecksumCRC32>i9vVqA==</ChecksumCRC32></CopyObjectResult>";
	static const char part[] =
	    "<CopyPartResult><LastModified>2011-04-11T20:34:56.000Z"
	    "</LastModified><ETag>\"9b2cf535f27731c974343645a3985328\"</ETag>"
	    "</CopyPartResult>";
	static const char init[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\">\n  <Bucket>example-bucket</Bucket>\n"
	    "  <Key>example-object</Key>\n"
	    "  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"
	    "</UploadId>\n</InitiateMultipartUploadResult>";
	static const char done[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\">\n"
	    " <Location>http://Example-Bucket.s3.region.amazonaws.com/Example-"
	    "Object</Location>\n <Bucket>Example-Bucket</Bucket>\n"
	    " <Key>Example-Object</Key>\n"
	    " <ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>\n"
	    "</CompleteMultipartUploadResult>";
	static const char hold[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Status>ON</Status></LegalHold>";
	static const char ret[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00.000Z"
	    "</RetainUntilDate></Retention>";
	static const char lock[] =
	    "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\"><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
	    "<Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>30</Days>"
	    "</DefaultRetention></Rule></ObjectLockConfiguration>";
	struct s3xml_copy		 c;
	struct s3xml_initiate		 in;
	struct s3xml_complete		 co;
	struct s3xml_legal_hold		 lh;
	struct s3xml_retention		 r;
	struct s3xml_object_lock	 ol;
	struct s3xml			*p;
	char				*cause = NULL;

	CHECK_INT(s3xml_parse_copy(copy, strlen(copy), &c, &cause), 0);
	CHECK_STR(c.etag.data, "\"9b2cf535f27731c974343645a3985328\"");
	CHECK_INT(c.last_modified, 1256769120000ULL);
	CHECK_STR(c.checksum_crc32.data, "i9vVqA==");
	s3xml_copy_free(&c);
	CHECK_INT(s3xml_parse_copy(part, strlen(part), &c, &cause), 0);
	CHECK_INT(c.last_modified, 1302554096000ULL);
	s3xml_copy_free(&c);
	p = s3xml_new(S3XML_DOC_COPY_PART, &c, NULL, NULL, 0);
	CHECK_INT(s3xml_feed(p, part, strlen(part), &cause), 0);
	CHECK_INT(s3xml_finish(p, &cause), 0);
	CHECK_INT(s3xml_kind(p), S3XML_DOC_COPY_PART);
	s3xml_free(p);
	s3xml_copy_free(&c);
	/* A copy answer without an ETag is useless to the ETag checks. */
	CHECK_INT(s3xml_parse_copy("<CopyObjectResult/>", 19, &c, &cause), -1);
	CHECK_STR(cause, "XML line 1: <CopyObjectResult> has no ETag");
	free(cause);
	cause = NULL;
	s3xml_copy_free(&c);

	CHECK_INT(s3xml_parse_initiate(init, strlen(init), &in, &cause), 0);
	CHECK_STR(in.bucket.data, "example-bucket");
	CHECK_STR(in.key.data, "example-object");
	CHECK_STR(in.upload_id.data, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3Zp"
	    "ZS5tMnRzIHVwbG9hZA");
	s3xml_initiate_free(&in);

	CHECK_INT(s3xml_parse_complete(done, strlen(done), &co, &cause), 0);
	CHECK_STR(co.etag.data, "\"3858f62230ac3c915f300c664312c11f-9\"");
	CHECK_STR(co.location.data,
	    "http://Example-Bucket.s3.region.amazonaws.com/Example-Object");
	s3xml_complete_free(&co);

	CHECK_INT(s3xml_parse_legal_hold(hold, strlen(hold), &lh, &cause), 0);
	CHECK_STR(lh.status.data, "ON");
	s3xml_legal_hold_free(&lh);
	CHECK_INT(s3xml_parse_retention(ret, strlen(ret), &r, &cause), 0);
	CHECK_STR(r.mode.data, "GOVERNANCE");
	CHECK_INT(r.retain_until, 1893456000000ULL);
	s3xml_retention_free(&r);
	CHECK_INT(s3xml_parse_object_lock(lock, strlen(lock), &ol, &cause), 0);
	CHECK_STR(ol.enabled.data, "Enabled");
	CHECK_STR(ol.mode.data, "COMPLIANCE");
	CHECK_INT(ol.days, 30);
	CHECK_INT(ol.years, 0);
	s3xml_object_lock_free(&ol);
	CHECK(cause == NULL);
}

static void
test_tagging_acl(void)
{
	static const char tags[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
	    "  <TagSet>\n"
	    "     <Tag><Key>tag1</Key><Value>val1</Value></Tag>\n"
	    "     <Tag><Key>tag2</Key><Value/></Tag>\n"
	    "  </TagSet>\n"
	    "</Tagging>";
	static const char acl[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
	    "  <Owner>\n"
	    "    <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>\n"
	    "    <DisplayName>mtd@amazon.com</DisplayName>\n"
	    "  </Owner>\n"
	    "  <AccessControlList>\n"
	    "    <Grant>\n"
	    "      <Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	    "xsi:type=\"CanonicalUser\">\n"
	    "        <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>\n"
	    "        <DisplayName>mtd@amazon.com</DisplayName>\n"
	    "      </Grantee>\n"
	    "      <Permission>FULL_CONTROL</Permission>\n"
	    "    </Grant>\n"
	    "    <Grant>\n"
	    "      <Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	    "xsi:type=\"Group\">\n"
	    "        <URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>\n"
	    "      </Grantee>\n"
	    "      <Permission>READ</Permission>\n"
	    "    </Grant>\n"
	    "  </AccessControlList>\n"
	    "</AccessControlPolicy>";
	struct s3xml_tagging	 t;
	struct s3xml_acl	 a;
	struct buf		 b;
	char			*cause = NULL;
	int			 i;

	CHECK_INT(s3xml_parse_tagging(tags, strlen(tags), &t, &cause), 0);
	CHECK_INT(t.ntags, 2);
	CHECK_STR(t.tags[0].key.data, "tag1");
	CHECK_STR(t.tags[0].value.data, "val1");
	CHECK_STR(t.tags[1].key.data, "tag2");
	CHECK_INT(t.tags[1].value.len, 0);
	s3xml_tagging_free(&t);

	/* More tags than the fixed array holds: refused, not truncated. */
	buf_init(&b);
	buf_adds(&b, "<Tagging><TagSet>");
	for (i = 0; i <= S3XML_MAX_TAGS; i++)
		buf_addf(&b, "<Tag><Key>k%d</Key><Value>v</Value></Tag>", i);
	buf_adds(&b, "</TagSet></Tagging>");
	CHECK_INT(s3xml_parse_tagging(b.data, b.len, &t, &cause), -1);
	CHECK_STR(cause, "XML line 1: more than 50 tags");
	free(cause);
	cause = NULL;
	s3xml_tagging_free(&t);
	buf_free(&b);

	CHECK_INT(s3xml_parse_acl(acl, strlen(acl), &a, &cause), 0);
	CHECK_STR(a.owner_id.data,
	    "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a");
	CHECK_STR(a.owner_name.data, "mtd@amazon.com");
	CHECK_INT(a.ngrants, 2);
	CHECK_STR(a.grants[0].type.data, "CanonicalUser");
	CHECK_STR(a.grants[0].display_name.data, "mtd@amazon.com");
	CHECK_STR(a.grants[0].permission.data, "FULL_CONTROL");
	CHECK_STR(a.grants[1].type.data, "Group");
	CHECK_STR(a.grants[1].uri.data,
	    "http://acs.amazonaws.com/groups/global/AllUsers");
	CHECK_STR(a.grants[1].permission.data, "READ");

	/* Write it back and read it again: the same policy. */
	{
		struct s3xml_acl	 a2;

		buf_init(&b);
		CHECK_INT(s3xml_write_acl(&b, &a, &cause), 0);
		CHECK_INT(s3xml_parse_acl(b.data, b.len, &a2, &cause), 0);
		CHECK_INT(a2.ngrants, 2);
		CHECK_STR(a2.owner_id.data, a.owner_id.data);
		CHECK_STR(a2.grants[0].id.data, a.grants[0].id.data);
		CHECK_STR(a2.grants[1].type.data, "Group");
		CHECK_STR(a2.grants[1].uri.data, a.grants[1].uri.data);
		CHECK_STR(a2.grants[1].permission.data, "READ");
		s3xml_acl_free(&a2);
		buf_free(&b);
	}
	/* A Group grant without a URI cannot be sent. */
	buf_reset(&a.grants[1].uri);
	buf_init(&b);
	CHECK_INT(s3xml_write_acl(&b, &a, &cause), -1);
	CHECK_STR(cause, "grant 2: a Group grantee needs URI");
	CHECK_INT(b.len, 0);
	free(cause);
	cause = NULL;
	buf_free(&b);
	s3xml_acl_free(&a);
}

static void
test_replication(void)
{
	static const char xml[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<ReplicationConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\">\n"
	    "  <Role>arn:aws:iam::35667example:role/CrossRegionReplicationRole"
	    "ForS3</Role>\n"
	    "  <Rule>\n"
	    "    <ID>rule1</ID>\n"
	    "    <Status>Enabled</Status>\n"
	    "    <Priority>1</Priority>\n"
	    "    <DeleteMarkerReplication><Status>Disabled</Status>"
	    "</DeleteMarkerReplication>\n"
	    "    <Filter>\n"
	    "      <And>\n"
	    "        <Prefix>TaxDocs</Prefix>\n"
	    "        <Tag><Key>tagA</Key><Value>valueA</Value></Tag>\n"
	    "        <Tag><Key>tagB</Key><Value>valueB</Value></Tag>\n"
	    "      </And>\n"
	    "    </Filter>\n"
	    "    <Destination>\n"
	    "      <Bucket>arn:aws:s3:::exampletargetbucket</Bucket>\n"
	    "      <StorageClass>STANDARD_IA</StorageClass>\n"
	    "      <Account>111122223333</Account>\n"
	    "      <AccessControlTranslation><Owner>Destination</Owner>"
	    "</AccessControlTranslation>\n"
	    "    </Destination>\n"
	    "    <ExistingObjectReplication><Status>Enabled</Status>"
	    "</ExistingObjectReplication>\n"
	    "  </Rule>\n"
	    "  <Rule>\n"
	    "    <ID>rule2</ID><Status>Enabled</Status><Priority>2</Priority>\n"
	    "    <Filter><Tag><Key>k</Key><Value>v &amp; w</Value></Tag></Filter>\n"
	    "    <Destination><Bucket>arn:aws:s3:::b2</Bucket></Destination>\n"
	    "  </Rule>\n"
	    "  <Rule>\n"
	    "    <Status>Disabled</Status><Prefix>old/</Prefix>\n"
	    "    <Destination><Bucket>arn:aws:s3:::b3</Bucket></Destination>\n"
	    "  </Rule>\n"
	    "  <Rule><Status>Enabled</Status><Filter/>"
	    "<Destination><Bucket>arn:aws:s3:::b4</Bucket></Destination></Rule>\n"
	    "  <Rule><Status>Enabled</Status><Filter><Prefix>p/</Prefix></Filter>"
	    "<Destination><Bucket>arn:aws:s3:::b5</Bucket></Destination></Rule>\n"
	    "</ReplicationConfiguration>\n";
	struct s3xml_replication	 r;
	struct s3xml_repl_rule		*rule;
	char				*cause = NULL;

	CHECK_INT(s3xml_parse_replication(xml, strlen(xml), &r, &cause), 0);
	CHECK_STR(r.role.data, "arn:aws:iam::35667example:role/"
	    "CrossRegionReplicationRoleForS3");
	CHECK_INT(r.nrules, 5);
	if (r.nrules == 5) {
		rule = &r.rules[0];
		CHECK_STR(rule->id.data, "rule1");
		CHECK_INT(rule->priority, 1);
		CHECK_STR(rule->status.data, "Enabled");
		CHECK_INT(rule->has_filter, 1);
		CHECK_STR(rule->filter_prefix.data, "TaxDocs");
		CHECK_INT(rule->nfilter_tags, 2);
		CHECK_STR(rule->filter_tags[1].key.data, "tagB");
		CHECK_STR(rule->filter_tags[1].value.data, "valueB");
		CHECK_STR(rule->dest_bucket.data,
		    "arn:aws:s3:::exampletargetbucket");
		CHECK_STR(rule->dest_storage_class.data, "STANDARD_IA");
		CHECK_STR(rule->dest_account.data, "111122223333");
		CHECK_STR(rule->dest_owner.data, "Destination");
		CHECK_STR(rule->delete_marker_replication.data, "Disabled");
		CHECK_STR(rule->existing_object_replication.data, "Enabled");
		rule = &r.rules[1];
		CHECK_INT(rule->nfilter_tags, 1);
		CHECK_STR(rule->filter_tags[0].value.data, "v & w");
		CHECK_INT(rule->filter_prefix.len, 0);
		rule = &r.rules[2];
		CHECK_INT(rule->priority, -1);
		CHECK_INT(rule->has_filter, 0);
		CHECK_STR(rule->prefix.data, "old/");
		CHECK_STR(rule->status.data, "Disabled");
		CHECK_INT(r.rules[3].has_filter, 1);
		CHECK_INT(r.rules[3].filter_prefix.len, 0);
		CHECK_STR(r.rules[4].filter_prefix.data, "p/");
		CHECK_STR(r.rules[4].dest_bucket.data, "arn:aws:s3:::b5");
	}
	s3xml_replication_free(&r);
}

/* Hostile and broken input: each fails with a cause naming the problem. */
static void
test_hostile(void)
{
	static const char laughs[] =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE lolz [\n"
	    " <!ENTITY lol \"lol\">\n"
	    " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    "]>\n"
	    "<Error><Code>&lol3;</Code></Error>";
	static const char xxe[] =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE Error [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
	    "<Error><Code>&xxe;</Code></Error>";
	static const char xxe_ext[] =
	    "<!DOCTYPE Error SYSTEM \"http://127.0.0.1:1/evil.dtd\">"
	    "<Error><Code>x</Code></Error>";
	static const struct {
		enum s3xml_doc	 doc;
		const char	*xml;
		const char	*cause;		/* a substring of the cause */
	} cases[] = {
		{ S3XML_DOC_ERROR, laughs,
		    "XML line 2: DOCTYPE is not allowed" },
		{ S3XML_DOC_ERROR, xxe, "DOCTYPE is not allowed" },
		{ S3XML_DOC_ERROR, xxe_ext, "DOCTYPE is not allowed" },
		{ S3XML_DOC_ERROR, "<Error><Code>&undefined;</Code></Error>",
		    "undefined entity" },
		{ S3XML_DOC_ERROR, "", "document truncated or empty" },
		{ S3XML_DOC_ERROR, "<Error><Code>x</Code>",
		    "document truncated or empty" },
		{ S3XML_DOC_ERROR, "<Error><Code>x</Code></Error><Error/>",
		    "junk after document element" },
		{ S3XML_DOC_ERROR, "<Error><Code>caf\xe9</Code></Error>",
		    "not well-formed" },
		{ S3XML_DOC_ERROR, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\""
		    "?><Error><Code>caf\xe9</Code></Error>", "XML line 1" },
		{ S3XML_DOC_ERROR, "<Error><Code>\xc0\xaf</Code></Error>",
		    "not well-formed" },
		{ S3XML_DOC_ERROR, "<Error><Code>a&#1;b</Code></Error>",
		    "reference to invalid character number" },
		{ S3XML_DOC_LIST_OBJECTS, "<Error><Code>x</Code></Error>",
		    "S3 error x: (no message)" },
		{ S3XML_DOC_LIST_OBJECTS, "<ListBucketResult><Contents><Key>"
		    "a<b>c</b></Key></Contents></ListBucketResult>",
		    "XML line 1: unexpected element <b> inside Contents/Key" },
		{ S3XML_DOC_LIST_OBJECTS, "<ListVersionsResult/>",
		    "unexpected root element <ListVersionsResult>, expected "
		    "<ListBucketResult>" },
		{ S3XML_DOC_LIST_OBJECTS, "<ListBucketResult>\n<KeyCount>-1"
		    "</KeyCount></ListBucketResult>", "XML line 2: KeyCount: "
		    "\"-1\" is not a non-negative integer" },
		{ S3XML_DOC_LIST_OBJECTS, "<ListBucketResult><Contents><Size>"
		    "99999999999999999999</Size></Contents></ListBucketResult>",
		    "Contents/Size: \"99999999999999999999\" is not" },
		{ S3XML_DOC_LIST_OBJECTS, "<ListBucketResult><IsTruncated>yes"
		    "</IsTruncated></ListBucketResult>",
		    "IsTruncated: \"yes\" is not true or false" },
		{ S3XML_DOC_LIST_OBJECTS, "<ListBucketResult><Contents>"
		    "<LastModified>2013-02-30T00:00:00Z</LastModified>"
		    "</Contents></ListBucketResult>",
		    "Contents/LastModified: \"2013-02-30T00:00:00Z\" is not an "
		    "ISO 8601 UTC time" },
		{ S3XML_DOC_RETENTION, "<Retention><RetainUntilDate>tomorrow"
		    "</RetainUntilDate></Retention>", "RetainUntilDate" },
		{ S3XML_DOC_INITIATE_MULTIPART,
		    "<InitiateMultipartUploadResult><Bucket>b</Bucket>"
		    "</InitiateMultipartUploadResult>",
		    "<InitiateMultipartUploadResult> has no UploadId" },
		{ S3XML_DOC_TAGGING, "\xff\xfe<\0T\0a\0g\0", "XML line 1" },
	};
	struct buf	 b;
	union {
		struct s3xml_error		e;
		struct s3xml_list_page		l;
		struct s3xml_retention		r;
		struct s3xml_initiate		i;
		struct s3xml_tagging		t;
	} out;
	char		*cause;
	size_t		 i, len;
	int		 d;

	for (i = 0; i < nitems(cases); i++) {
		cause = NULL;
		len = strlen(cases[i].xml);
		if (cases[i].doc == S3XML_DOC_TAGGING)
			len = 10;
		CHECK_INT(s3xml_parse(cases[i].doc, cases[i].xml, len, &out,
		    NULL, NULL, &cause), -1);
		CHECK(cause != NULL && strstr(cause, cases[i].cause) != NULL);
		if (cause != NULL && strstr(cause, cases[i].cause) == NULL)
			fprintf(stderr, "case %zu: %s\n", i, cause);
		free(cause);
		s3xml_result_free(cases[i].doc, &out);
	}

	/* Nesting: 32 levels are fine, 33 are not. */
	for (d = 32; d <= 33; d++) {
		int	 j;

		buf_init(&b);
		buf_adds(&b, "<?xml version=\"1.0\"?>\n<ListBucketResult>\n");
		for (j = 1; j < d; j++)
			buf_adds(&b, "<a>");
		for (j = 1; j < d; j++)
			buf_adds(&b, "</a>");
		buf_adds(&b, "</ListBucketResult>");
		cause = NULL;
		CHECK_INT(s3xml_parse(S3XML_DOC_LIST_OBJECTS, b.data, b.len,
		    &out.l, NULL, NULL, &cause), d == 32 ? 0 : -1);
		if (d == 33)
			CHECK_STR(cause,
			    "XML line 3: element nesting deeper than 32");
		free(cause);
		s3xml_list_page_free(&out.l);
		buf_free(&b);
	}

	/* Text: 64 KiB in one element is the limit, in entities too. */
	for (d = 0; d < 3; d++) {
		size_t	 n = S3XML_MAX_TEXT + (d == 0 ? 0 : 1);

		buf_init(&b);
		buf_adds(&b, "<Error><Code>x</Code><Message>");
		for (i = 0; i < n; i++)
			buf_adds(&b, d == 2 ? "&amp;" : "m");
		buf_adds(&b, "</Message></Error>");
		cause = NULL;
		CHECK_INT(s3xml_parse_error(b.data, b.len, &out.e, &cause),
		    d == 0 ? 0 : -1);
		if (d == 0)
			CHECK_INT(out.e.message.len, S3XML_MAX_TEXT);
		else
			CHECK_STR(cause, "XML line 1: text of Message longer "
			    "than 65536 bytes");
		free(cause);
		s3xml_error_free(&out.e);
		buf_free(&b);
	}
	/* Text in elements nobody reads is not kept, hence not bounded. */
	buf_init(&b);
	buf_adds(&b, "<Error><Code>x</Code><Unknown>");
	for (i = 0; i < 3 * S3XML_MAX_TEXT; i++)
		buf_addc(&b, 'u');
	buf_adds(&b, "</Unknown></Error>");
	cause = NULL;
	CHECK_INT(s3xml_parse_error(b.data, b.len, &out.e, &cause), 0);
	s3xml_error_free(&out.e);
	buf_free(&b);

	/* A long element name. */
	buf_init(&b);
	buf_adds(&b, "<Error><");
	for (i = 0; i < 300; i++)
		buf_addc(&b, 'n');
	buf_adds(&b, "/></Error>");
	CHECK_INT(s3xml_parse_error(b.data, b.len, &out.e, &cause), -1);
	CHECK_STR(cause, "XML line 1: element name longer than 256 bytes");
	free(cause);
	s3xml_error_free(&out.e);
	buf_free(&b);
}

/* Every proper prefix of a valid document fails; the whole succeeds. */
static void
test_truncated(void)
{
	struct s3xml_list_page	 page;
	struct seen		 seen;
	char			*cause;
	size_t			 len = strlen(list_xml), i;
	int			 bad = 0;

	for (i = 0; i < len; i++) {
		/* Trailing whitespace after the root is optional. */
		if (i == len - 1)
			break;
		memset(&seen, 0, sizeof seen);
		cause = NULL;
		if (parse_chunked(S3XML_DOC_LIST_OBJECTS, list_xml, i, 0,
		    &page, &seen_cbs, &seen, &cause) != -1 || cause == NULL)
			bad++;
		free(cause);
		s3xml_list_page_free(&page);
		buf_free(&seen.log);
	}
	CHECK_INT(bad, 0);
}

static void
test_time(void)
{
	static const struct {
		const char	*in;
		int		 ok;
		uint64_t	 ms;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 1, 0 },
		{ "2009-10-12T17:50:30.000Z", 1, 1255369830000ULL },
		{ "2009-10-12T17:50:30.1Z", 1, 1255369830100ULL },
		{ "2009-10-12T17:50:30.123456Z", 1, 1255369830123ULL },
		{ "2009-10-12T19:50:30+02:00", 1, 1255369830000ULL },
		{ "2024-02-29T00:00:00Z", 1, 1709164800000ULL },
		{ "2023-02-29T00:00:00Z", 0, 0 },
		{ "1900-02-28T00:00:00Z", 0, 0 },
		{ "2009-10-12 17:50:30Z", 0, 0 },
		{ "2009-10-12T17:50:30", 0, 0 },
		{ "2009-10-12T17:50:30.Z", 0, 0 },
		{ "2009-13-12T17:50:30Z", 0, 0 },
		{ "2009-10-12T24:00:00Z", 0, 0 },
		{ "2009-10-12T17:50:30ZZ", 0, 0 },
		{ "", 0, 0 },
	};
	char		 out[40], *cause;
	uint64_t	 ms;
	size_t		 i;

	for (i = 0; i < nitems(cases); i++) {
		cause = NULL;
		ms = 0;
		CHECK_INT(s3xml_parse_time(cases[i].in, strlen(cases[i].in),
		    &ms, &cause) == 0, cases[i].ok);
		if (cases[i].ok)
			CHECK_INT(ms, cases[i].ms);
		else
			CHECK(cause != NULL);
		free(cause);
	}
	time_format_utc(1255369830123ULL, out, sizeof out);
	CHECK_STR(out, "2009-10-12T17:50:30.123Z");
}

static void
test_writers(void)
{
	struct s3xml_tagging	 t, t2;
	struct s3xml_part	 parts[3] = {
		{ 1, "\"a54357aff0632cce46d942af68356b38\"" },
		{ 2, "\"0c78aef83f66abc1fa1e8477f296d394\"" },
		{ 3, "\"acbd18db4cc2f85cedef654fccc4a4d8\"" },
	};
	struct s3xml_object_id	 objs[2] = {
		{ "sample1.txt", NULL },
		{ "a<b>&\"c'\t\r\n\xc3\xa9", "OYcLXagmS.WaD..oyH4KRguB95_YhLs7" },
	};
	struct s3xml_legal_hold	 lh;
	struct s3xml_retention	 r;
	struct buf		 b;
	char			*cause = NULL;
	static const char *const odd[] = {
		"plain", "a&b", "<tag>", "\"quoted\"", "it's", "tab\there",
		"line\nbreak", "cr\rlf\r\n", "  spaces  ", "caf\xc3\xa9 \xe2\x82\xac",
		"\xf0\x9f\x98\x80", "]]>", "&amp;", "",
	};
	size_t			 i;

	/* Tags with every character XML treats specially survive. */
	memset(&t, 0, sizeof t);
	for (i = 0; i < nitems(odd); i++) {
		buf_adds(&t.tags[i].key, i == nitems(odd) - 1 ? "k" : odd[i]);
		buf_adds(&t.tags[i].value, odd[nitems(odd) - 1 - i]);
	}
	t.ntags = nitems(odd);
	buf_init(&b);
	CHECK_INT(s3xml_write_tagging(&b, &t, &cause), 0);
	CHECK(strncmp(b.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<TagSet><Tag><Key>plain</Key><Value></Value></Tag>"
	    "<Tag><Key>a&amp;b</Key><Value>&amp;amp;</Value></Tag>", 180) == 0);
	CHECK_INT(s3xml_parse_tagging(b.data, b.len, &t2, &cause), 0);
	CHECK_INT(t2.ntags, t.ntags);
	for (i = 0; i < t.ntags && i < t2.ntags; i++) {
		CHECK_STR(t2.tags[i].key.data, t.tags[i].key.data);
		CHECK_STR(t2.tags[i].value.data != NULL ?
		    t2.tags[i].value.data : "", t.tags[i].value.data != NULL ?
		    t.tags[i].value.data : "");
	}
	s3xml_tagging_free(&t2);
	buf_free(&b);

	/* What XML 1.0 cannot carry is refused, and nothing is written. */
	buf_reset(&t.tags[3].value);
	buf_add(&t.tags[3].value, "bell\007", 5);
	buf_init(&b);
	buf_adds(&b, "keep");
	CHECK_INT(s3xml_write_tagging(&b, &t, &cause), -1);
	CHECK_STR(cause, "tag 4: control character 0x07 at offset 4 cannot be "
	    "sent in XML 1.0");
	CHECK_STR(b.data, "keep");
	free(cause);
	cause = NULL;
	buf_reset(&t.tags[3].value);
	buf_add(&t.tags[3].value, "nul\0x", 5);
	CHECK_INT(s3xml_write_tagging(&b, &t, &cause), -1);
	CHECK_STR(cause, "tag 4: control character 0x00 at offset 3 cannot be "
	    "sent in XML 1.0");
	free(cause);
	cause = NULL;
	buf_reset(&t.tags[3].value);
	buf_adds(&t.tags[3].value, "caf\xe9");
	CHECK_INT(s3xml_write_tagging(&b, &t, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "not valid UTF-8") != NULL);
	free(cause);
	cause = NULL;
	buf_reset(&t.tags[3].value);
	buf_adds(&t.tags[3].value, "\xef\xbf\xbe");
	CHECK_INT(s3xml_write_tagging(&b, &t, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "U+FFFE") != NULL);
	free(cause);
	cause = NULL;
	CHECK_STR(b.data, "keep");
	buf_free(&b);
	s3xml_tagging_free(&t);

	buf_init(&b);
	CHECK_INT(s3xml_write_complete(&b, parts, 3, &cause), 0);
	CHECK_STR(b.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\"><Part><PartNumber>1</PartNumber><ETag>&quot;"
	    "a54357aff0632cce46d942af68356b38&quot;</ETag></Part><Part>"
	    "<PartNumber>2</PartNumber><ETag>&quot;0c78aef83f66abc1fa1e8477f296"
	    "d394&quot;</ETag></Part><Part><PartNumber>3</PartNumber><ETag>"
	    "&quot;acbd18db4cc2f85cedef654fccc4a4d8&quot;</ETag></Part>"
	    "</CompleteMultipartUpload>");
	buf_reset(&b);
	parts[2].number = 2;
	CHECK_INT(s3xml_write_complete(&b, parts, 3, &cause), -1);
	CHECK_STR(cause, "part number 2 out of order or out of range");
	free(cause);
	cause = NULL;
	CHECK_INT(s3xml_write_complete(&b, parts, 0, &cause), -1);
	free(cause);
	cause = NULL;

	CHECK_INT(s3xml_write_delete(&b, objs, 2, 1, &cause), 0);
	CHECK_STR(b.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Quiet>true</Quiet><Object><Key>sample1.txt</Key></Object>"
	    "<Object><Key>a&lt;b&gt;&amp;&quot;c&apos;&#9;&#13;&#10;\xc3\xa9"
	    "</Key><VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId>"
	    "</Object></Delete>");
	buf_reset(&b);
	objs[0].key = "x\001";
	CHECK_INT(s3xml_write_delete(&b, objs, 2, 0, &cause), -1);
	CHECK_STR(cause, "object 1: control character 0x01 at offset 1 cannot "
	    "be sent in XML 1.0");
	CHECK_INT(b.len, 0);
	free(cause);
	cause = NULL;

	CHECK_INT(s3xml_write_legal_hold(&b, "ON", &cause), 0);
	CHECK_INT(s3xml_parse_legal_hold(b.data, b.len, &lh, &cause), 0);
	CHECK_STR(lh.status.data, "ON");
	s3xml_legal_hold_free(&lh);
	buf_reset(&b);
	CHECK_INT(s3xml_write_legal_hold(&b, "on", &cause), -1);
	free(cause);
	cause = NULL;

	CHECK_INT(s3xml_write_retention(&b, "COMPLIANCE", 1893456000123ULL,
	    &cause), 0);
	CHECK(strstr(b.data, "<Retention xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\"><Mode>COMPLIANCE</Mode><RetainUntilDate>"
	    "2030-01-01T00:00:00.123Z</RetainUntilDate></Retention>") != NULL);
	CHECK_INT(s3xml_parse_retention(b.data, b.len, &r, &cause), 0);
	CHECK_STR(r.mode.data, "COMPLIANCE");
	CHECK_INT(r.retain_until, 1893456000123ULL);
	s3xml_retention_free(&r);
	buf_reset(&b);
	CHECK_INT(s3xml_write_retention(&b, "FOREVER", 1, &cause), -1);
	free(cause);
	cause = NULL;

	CHECK_INT(s3xml_write_restore(&b, 10, "Bulk", &cause), 0);
	CHECK_STR(b.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<RestoreRequest xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Days>10</Days><GlacierJobParameters><Tier>Bulk</Tier>"
	    "</GlacierJobParameters></RestoreRequest>");
	buf_reset(&b);
	CHECK_INT(s3xml_write_restore(&b, 0, NULL, &cause), 0);
	CHECK(strstr(b.data, "<RestoreRequest xmlns=\"http://s3.amazonaws.com/"
	    "doc/2006-03-01/\"></RestoreRequest>") != NULL);
	buf_reset(&b);
	CHECK_INT(s3xml_write_restore(&b, 1, "Fast", &cause), -1);
	free(cause);
	buf_free(&b);
}

/* The 2xx answers S3 sends without a body. */
static void
test_bodiless(void)
{
	static const int	 ok[] = { 200, 204, 0 };
	static const char	 html[] =
	    "<html><body>It works!</body></html>\n";
	char			*cause = NULL;
	struct buf		 big;
	size_t			 i;

	CHECK_INT(s3xml_check_bodiless("PutObjectAcl", 200, ok, NULL, 0,
	    &cause), 0);
	CHECK(cause == NULL);
	CHECK_INT(s3xml_check_bodiless("DeleteObject", 204, ok, " \r\n\t",
	    4, &cause), 0);
	CHECK(cause == NULL);
	/* A status the call never answers with. */
	CHECK_INT(s3xml_check_bodiless("DeleteObject", 206, ok, NULL, 0,
	    &cause), -1);
	CHECK_STR(cause, "DeleteObject answered 206, which is not its "
	    "success");
	free(cause);
	cause = NULL;
	/* An HTML page: shown from its first non-blank byte. */
	CHECK_INT(s3xml_check_bodiless("PutObjectTagging", 200, ok, html,
	    sizeof html - 1, &cause), -1);
	CHECK_STR(cause, "PutObjectTagging answered 200 with a body of 36 "
	    "bytes where S3 sends none (\"<html><body>It works!</body>"
	    "</html>\\x0a\")");
	free(cause);
	cause = NULL;
	/* Control characters and quotes escaped; a long body cut. */
	buf_init(&big);
	buf_adds(&big, "\n\x01\"");
	for (i = 0; i < 100; i++)
		buf_addc(&big, 'x');
	CHECK_INT(s3xml_check_bodiless("PutObjectRetention", 200, ok,
	    big.data, big.len, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "a body of 103 bytes") != NULL);
	CHECK(cause != NULL && strstr(cause, "(\"\\x01\\x22xxx") != NULL);
	CHECK(cause != NULL && strstr(cause, "xxx...\")") != NULL);
	free(cause);
	buf_free(&big);
}

int
main(void)
{
	test_list_objects();
	test_list_big();
	test_list_url();
	test_list_versions();
	test_uploads_and_delete();
	test_error();
	test_small_docs();
	test_tagging_acl();
	test_replication();
	test_hostile();
	test_truncated();
	test_time();
	test_writers();
	test_bodiless();
	return (unit_done("test-s3xml"));
}

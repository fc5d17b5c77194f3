"""The admission webhook: the rules of ``servegate scan``, run by the Kubernetes API server on every object it
is asked to admit, so what CI denies the cluster denies too, with the same message.

``review.py`` judges one AdmissionReview (pure: bytes in, document out); ``server.py`` serves it over HTTPS with
the operational qualities a webhook on the API server's path needs; ``settings.py`` says what denies and what warns.
"""

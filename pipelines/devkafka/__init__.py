"""A development Kafka broker: ``broker`` runs a single-node KRaft broker from ``deploy/kafka/lib``
(``newsflow kafka up|down|status``, the integration tests, the chaos benchmark), ``tls`` makes throw-away TLS
material for it. Production runs use their own Kafka; nothing in the pipelines imports this package.
"""

"""Linear text classification on sparse CSR features with SGDClassifier.

Documents are generated from a vocabulary in which each topic prefers its own
words, turned into a sparse TF-IDF matrix, and classified by fastopt's and
scikit-learn's SGDClassifier with the same settings (scikit-learn's per-sample
algorithm), then by fastopt's minibatch Adam with a softmax (multinomial) loss,
which scikit-learn's SGDClassifier does not offer.

    python examples/sgd_sparse_text_like.py
"""

import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier as SkSGDClassifier
from sklearn.model_selection import train_test_split

from fastopt import SGDClassifier

rng = np.random.default_rng(0)
n_docs, n_topics, vocab_size, doc_len = 6000, 5, 20000, 60
vocab = np.array([f"w{i}" for i in range(vocab_size)])
topics = rng.integers(n_topics, size=n_docs)
# Each topic draws 30% of its words from its own slice of the vocabulary.
topic_words = np.array_split(np.arange(vocab_size), n_topics)
docs = []
for topic in topics:
    own = rng.random(doc_len) < 0.3
    words = np.where(own, rng.choice(topic_words[topic], doc_len),
                     rng.integers(vocab_size, size=doc_len))
    docs.append(" ".join(vocab[words]))

X = TfidfVectorizer().fit_transform(docs)
X_train, X_test, y_train, y_test = train_test_split(X, topics, random_state=0)
print(f"TF-IDF matrix: {X.shape[0]} x {X.shape[1]} CSR, "
      f"{X.nnz / (X.shape[0] * X.shape[1]):.2%} non-zero\n")

settings = dict(loss="log_loss", alpha=1e-5, max_iter=10, tol=None, random_state=0)
models = {
    "scikit-learn SGDClassifier": SkSGDClassifier(**settings),
    "fastopt SGDClassifier": SGDClassifier(**settings),
    "fastopt Adam + softmax": SGDClassifier(**settings, solver="adam", batch_size=32,
                                            multi_class="multinomial"),
}
print(f"{'model':<28} {'fit s':>7} {'test acc':>9}")
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    elapsed = time.perf_counter() - start
    print(f"{name:<28} {elapsed:>7.3f} {model.score(X_test, y_test):>9.3f}")

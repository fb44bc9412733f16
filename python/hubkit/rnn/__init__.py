"""Recurrent networks: RNN, LSTM and GRU from the cell equations to a fused C++ LSTM.

reference.py  the cells, `scan` over time, BPTT by hand for the RNN and one LSTM layer: the spec
ops.py        `hubkit::lstm` torch op (a whole layer, forward and backward): reference and cpp
layers.py     RNN, LSTM, GRU: drop-ins for torch.nn.RNN/LSTM/GRU
lessons.py    vanishing/exploding gradients, gradient clipping, truncated BPTT
sentiment.py  LSTM vs bag-of-words on generated reviews with negation
train.py      char-LSTM text generator and the sentiment run (`python -m hubkit.rnn.train --help`)
"""
